"""Built-in providers: one package each (wire records, translator, client).

Importing a provider binds this package to ``contactsync.providers``, the name of the
public function that lists providers; the package is therefore callable too, with the
same answer, so ``contactsync.providers()`` works before and after any import.
"""

from __future__ import annotations

import sys
import types


class _CallablePackage(types.ModuleType):
    def __call__(self) -> list[str]:
        from contactsync.registry import providers

        return providers()


sys.modules[__name__].__class__ = _CallablePackage
