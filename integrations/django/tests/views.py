import uuid

from django.contrib.auth import get_user_model, login
from django.http import HttpResponse, HttpResponseRedirect
from django.template import Context, Template

from visittrack_django import record_signup

COMMUNITIES = ["montreal", "toronto"]


def community_uuid(slug):
    return uuid.uuid5(uuid.NAMESPACE_DNS, slug + ".communities.test")


def community_of(request, match):
    if match is not None and match.url_name == "community":
        slug = match.kwargs["slug"]
        return {"community_id": community_uuid(slug), "community_slug": slug}
    return None


def all_communities():
    return [(community_uuid(s), s.title()) for s in COMMUNITIES]


def page(request):
    return HttpResponse("<html><body>page</body></html>")


def moved(request):
    return HttpResponseRedirect("/")


NOW = Template("{% load visittrack %}{% viewing_now cid %}")


def community(request, slug):
    return HttpResponse(NOW.render(Context({"cid": community_uuid(slug)})))


def signup(request):
    user = get_user_model().objects.create_user(request.POST["username"],
                                                password=request.POST["password"])
    record_signup(request, user)
    login(request, user)
    return HttpResponseRedirect("/")
