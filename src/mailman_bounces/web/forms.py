"""The list's bounce settings as a form.

The fields are the settings the REST API shows, drawn from its own
schema of them (the plugin's OpenAPI document, one definition): its
descriptions are the help text, a setting with an ``enum`` is a choice of
those values, a boolean one a choice of yes and no, the rest text; values
are written as the API accepts them in a form body.  The form does not
check the values itself: only the settings changed are sent, in one
PATCH, which the API checks as a whole; its error message is shown on the
field it names, and a refused change changes nothing.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

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


def setting_schemas(openapi: dict[str, Any]) -> dict[str, dict]:
    """Each setting's schema, from the OpenAPI document."""
    return openapi['components']['schemas']['Settings']['properties']


# A yes/no setting's choices, as the API reads them in a form body.
YES_NO = (('yes', _('yes')), ('no', _('no')))


def _widget(schema: dict[str, Any], current: str) -> forms.Widget:
    """How a setting of `schema` is entered: a list of its values, yes or
    no, or text.  The current value is always one of the choices."""
    def choices(values):
        values = list(values)
        if current not in (value for value, _label in values):
            values.insert(0, (current, current))
        return values
    if 'enum' in schema:
        values = [('' if value is None else value,
                   '' if value is None else value)
                  for value in schema['enum']]
        if schema.get('nullable') and ('', '') not in values:
            values.insert(0, ('', ''))
        return forms.Select(choices=choices(values),
                            attrs={'class': 'form-select'})
    if schema.get('type') == 'boolean':
        return forms.RadioSelect(choices=choices(YES_NO),
                                 attrs={'class': 'form-check-inline'})
    return forms.TextInput(attrs={'class': 'form-control'})


class SettingsForm(forms.Form):
    """Every bounce setting of a list, as the API's schema has it."""

    def __init__(self, settings: dict[str, Any], schemas: dict[str, dict],
                 *args, **kws) -> None:
        super().__init__(*args, **kws)
        self.current = {name: shown(settings[name])
                        for name in setting_names(settings)}
        for name, value in self.current.items():
            schema = schemas.get(name, {})
            # Text whatever the widget: the API is the one to check.
            self.fields[name] = forms.CharField(
                label=name, required=False, initial=value,
                help_text=schema.get('description', ''),
                widget=_widget(schema, value))

    def changes(self) -> dict[str, str]:
        """The settings whose text changed."""
        return {name: value.strip()
                for name, value in self.cleaned_data.items()
                if value.strip() != self.current[name]}

    def refused(self, message: str) -> None:
        """Show the API's `message` on the field it names."""
        name = message.partition(':')[0]
        self.add_error(name if name in self.fields else None, message)
