"""The list's bounce settings as a form.

The fields are the settings the REST API shows, with its descriptions
(from the plugin's OpenAPI document) as help text; values are written as
the API accepts them in a form body.  Only the settings changed are sent,
in one PATCH, which the API checks as a whole: its error message is shown
on the field it names, and a refused change changes nothing.
"""

from __future__ import annotations

from typing import Any

from django import forms

# What the settings resource shows besides the settings.
NOT_SETTINGS = ('list_id', 'overridden', 'inherited', 'self_link',
                'http_etag')


def shown(value: Any) -> str:
    """A setting's value as the API takes it back in a form body."""
    if value is None:
        return ''
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if isinstance(value, dict):
        return ', '.join(f'{name}={weight:g}' if isinstance(weight, float)
                         else f'{name}={weight}'
                         for name, weight in sorted(value.items()))
    if isinstance(value, float):
        return f'{value:g}'
    return str(value)


def setting_names(settings: dict[str, Any]) -> list[str]:
    return [name for name in settings if name not in NOT_SETTINGS]


def descriptions(openapi: dict[str, Any]) -> dict[str, str]:
    """Each setting's description, from the OpenAPI document."""
    schema = openapi['components']['schemas']['Settings']['properties']
    return {name: value.get('description', '')
            for name, value in schema.items()}


class SettingsForm(forms.Form):
    """Every bounce setting of a list, as text."""

    def __init__(self, settings: dict[str, Any], helps: dict[str, str],
                 *args, **kws) -> None:
        super().__init__(*args, **kws)
        self.current = {name: shown(settings[name])
                        for name in setting_names(settings)}
        for name, value in self.current.items():
            self.fields[name] = forms.CharField(
                label=name, required=False, initial=value,
                help_text=helps.get(name, ''),
                widget=forms.TextInput(attrs={'class': 'form-control'}))

    def changes(self) -> dict[str, str]:
        """The settings whose text changed."""
        return {name: value.strip()
                for name, value in self.cleaned_data.items()
                if value.strip() != self.current[name]}

    def refused(self, message: str) -> None:
        """Show the API's `message` on the field it names."""
        name = message.partition(':')[0]
        self.add_error(name if name in self.fields else None, message)
