"""The URLs of the test and demo Postorius site."""

from django.contrib.staticfiles.views import serve
from django.urls import include, path, re_path, reverse_lazy
from django.views.generic import RedirectView

urlpatterns = [
    path('', RedirectView.as_view(url=reverse_lazy('list_index'))),
    # mailman_bounces.web: before Postorius' URLs, under the same prefix.
    path('postorius/', include('mailman_bounces.web.urls')),
    path('postorius/', include('postorius.urls')),
    path('accounts/', include('allauth.urls')),
    path('user-profile/', include('django_mailman3.urls')),
    # A test site serves its static files itself (Django's staticfiles
    # view, which a real site leaves to its web server).
    re_path(r'^static/(?P<path>.*)$', serve, {'insecure': True}),
]
