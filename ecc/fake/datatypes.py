"""The driver's derived datatypes, built as the driver builds them (for the fake server)."""

from __future__ import annotations

import enum
import functools
import uuid
from collections.abc import Sequence

import gel
from gel.pgproto.pgproto import UUID as DriverUUID


def make_enum_type(labels: Sequence[str]) -> type[gel.EnumValue]:
    """The ``gel.EnumValue`` subclass the driver derives for an enum with these labels.

    Mirrors ``EnumCodec.new`` (gel/protocol/codecs/enum.pyx): same name, module, qualname,
    members named ``LABEL.upper()``, ``__tid__`` and ordering ``_index_``. The type id is
    derived from the labels, so one label set always gives the same class.
    """
    return _enum_type(tuple(labels))


@functools.cache
def _enum_type(labels: tuple[str, ...]) -> type[gel.EnumValue]:
    name = "DerivedEnumValue"
    bases = (gel.EnumValue,)
    classdict = enum.EnumMeta.__prepare__(name, bases)
    classdict["__module__"] = "gel"
    classdict["__qualname__"] = "gel.DerivedEnumValue"
    tid = uuid.uuid5(uuid.NAMESPACE_URL, "ecc-enum:" + ",".join(labels))
    classdict["__tid__"] = DriverUUID(tid.bytes)
    for label in labels:
        classdict[label.upper()] = label
    cls: type[gel.EnumValue] = enum.EnumMeta(name, bases, classdict)
    for index, label in enumerate(labels):
        cls(label)._index_ = index
    return cls
