from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.shortcuts import get_object_or_404, redirect, render

from visittrack_django import record_signup

from .models import Community


def community_of(request, match):
    """VISITTRACK['COMMUNITY']: community pages count their viewers."""
    if match is None or match.url_name != "community":
        return None
    community = getattr(request, "community", None)
    if community is None:
        return None
    return {"community_id": community.id, "community_slug": community.slug,
            "community_division_id": community.division_id}


def all_communities():
    """VISITTRACK['COMMUNITIES']: the dashboard's presence panel."""
    return [(c.id, c.name) for c in Community.objects.all()]


def home(request):
    return render(request, "communities/home.html", {"communities": Community.objects.all()})


def community(request, slug):
    request.community = get_object_or_404(Community, slug=slug)
    return render(request, "communities/community.html", {"community": request.community})


def about(request):
    return render(request, "communities/about.html")


def signup(request):
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        record_signup(request, user)        # links the anonymous browsing before it
        login(request, user)
        return redirect("home")
    return render(request, "communities/signup.html", {"form": form})
