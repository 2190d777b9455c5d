"""One translation function for every user-facing message.

Wrap each message a person reads (help, messages, hints, table headers) in :func:`_`
*before* formatting values into it, so the template is what gets translated::

    from mirrorctl.i18n import _, ngettext
    raise ConfigError(_("cannot read {path}").format(path=path), hint=_("check its permissions"))
    ngettext("{n} sample", "{n} samples", n).format(n=n)

JSON keys, codes and data are never wrapped. Until the catalogues are loaded this is the
identity: English.
"""

from __future__ import annotations


def _(message: str) -> str:
    """The message in the user's language (English when there is no translation)."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, in the user's language."""
    return singular if n == 1 else plural
