"""The app's URLs, included before Postorius' own with the same prefix:

    path('postorius/', include('mailman_bounces.web.urls')),
    path('postorius/', include('postorius.urls')),
"""

from django.urls import path, re_path

from mailman_bounces.web.views import account, lists, reenable, site

# A list-id as Postorius takes it.
LIST = r'lists/(?P<list_id>[^/]+)/bounces/'

urlpatterns = [
    path('bounces/reenable/<str:token>/', reenable.reenable,
         name='bounces_reenable'),
    path('bounces/', site.site_bounces, name='bounces_site'),
    path('accounts/bounces/', account.account_bounces,
         name='bounces_account'),
    re_path(rf'^{LIST}$', lists.ListBouncesView.as_view(),
            name='bounces_list'),
    re_path(rf'^{LIST}events/$', lists.EventsView.as_view(),
            name='bounces_events'),
    re_path(rf'^{LIST}events/(?P<event_id>[0-9]+)/$',
            lists.EventView.as_view(), name='bounces_event'),
    re_path(rf'^{LIST}members/(?P<email>[^/]+)/reset/$',
            lists.ResetView.as_view(), name='bounces_reset'),
    re_path(rf'^{LIST}settings/$', lists.SettingsView.as_view(),
            name='bounces_settings'),
    re_path(rf'^{LIST}plot\.svg$', lists.PlotView.as_view(),
            name='bounces_plot'),
    path('bounces/plot.svg', site.site_plot, name='bounces_site_plot'),
]
