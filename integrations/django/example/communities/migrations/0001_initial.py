import uuid

from django.db import migrations, models

SEED = [("montreal", "Montréal"), ("toronto", "Toronto"), ("vancouver", "Vancouver"),
        ("quebec", "Québec")]


def seed(apps, schema_editor):
    Community = apps.get_model("communities", "Community")
    east = uuid.UUID("00000000-0000-0000-0000-0000000000e1")
    for slug, name in SEED:
        Community.objects.create(id=uuid.uuid5(uuid.NAMESPACE_DNS, slug + ".example"),
                                 slug=slug, name=name, division_id=east)


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Community",
            fields=[("id", models.UUIDField(default=uuid.uuid4, primary_key=True, serialize=False)),
                    ("slug", models.SlugField(unique=True)),
                    ("name", models.CharField(max_length=100)),
                    ("division_id", models.UUIDField(blank=True, null=True))],
            options={"ordering": ["name"]},
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
