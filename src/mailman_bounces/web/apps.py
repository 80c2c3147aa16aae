"""The Django application."""

from django.apps import AppConfig


class BouncesWebConfig(AppConfig):
    name = 'mailman_bounces.web'
    # Not "web": a site may well have an app of that name.
    label = 'mailman_bounces_web'
    verbose_name = 'Mailman bounces'
    default_auto_field = 'django.db.models.AutoField'
