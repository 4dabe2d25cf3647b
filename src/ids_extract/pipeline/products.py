"""The registry of products (:mod:`.product`) by the ``format`` their folders' manifests say:
how ``validate`` and ``stats`` find, from a folder alone, the read-back and the tables of the
task that wrote it. The built-in tasks' products are registered here; another task registers its
own with :func:`register` (``tests/test_driver.py`` does, for a toy task).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import DataError
from .folder import MANIFEST
from .output import QA_PRODUCT, TEXTS_PRODUCT
from .product import Product

REGISTRY: dict[str, Product[Any]] = {p.format: p for p in (QA_PRODUCT, TEXTS_PRODUCT)}


def register(product: Product[Any]) -> Product[Any]:
    """Make the folders of ``product``'s format readable by ``validate`` and ``stats``."""
    REGISTRY[product.format] = product
    return product


def product_of(manifest: Mapping[str, Any], where: str = MANIFEST) -> Product[Any]:
    """The product of a folder's manifest, or a :class:`DataError` naming the format (a folder
    of another kind: a split, an evaluation)."""
    found = REGISTRY.get(str(manifest.get("format")))
    if found is None:
        raise DataError(where, "", f"format {manifest.get('format')!r} is not a level ladder's "
                        f"output folder (known: {', '.join(REGISTRY)})")
    return found
