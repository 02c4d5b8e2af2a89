"""The compact key set: what a set of ints would answer, in 8 bytes a key."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactsync.sync.keys import KeySet

KEYS = st.sets(st.integers(min_value=-(2**62), max_value=2**62 - 1), max_size=300)  # 63-bit keys


@given(keys=KEYS, probes=st.lists(st.integers(min_value=-(2**62), max_value=2**62 - 1), max_size=50))
def test_find_answers_as_a_set_would(keys: set[int], probes: list[int]) -> None:
    built = KeySet.build(keys)
    for key in [*keys, *probes]:
        at = built.find(key)
        assert (at >= 0) is (key in keys)
        if at >= 0:
            assert built.table[at] == key


@given(keys=KEYS, data=st.data())
def test_the_keys_never_marked_are_the_unseen_ones(keys: set[int], data: st.DataObject) -> None:
    built = KeySet.build(sorted(keys))
    marked = data.draw(st.sets(st.sampled_from(sorted(keys)))) if keys else set()
    for key in marked:
        assert built.mark(built.find(key)) is False
        assert built.mark(built.find(key)) is True
    assert sorted(built.unseen()) == sorted(keys - marked)


@given(keys=KEYS, width=st.sampled_from([8, 64, 1 << 17]))
def test_a_snapshot_in_chunks_reads_back_the_same_set_unmarked(keys: set[int], width: int) -> None:
    built = KeySet.build(keys)
    if keys:
        built.mark(built.find(min(keys)))
    again = KeySet.from_chunks(built.size, len(built), [(bytes(s), bytes(e)) for s, e in built.chunks(width)])
    assert len(again) == len(keys)
    assert all(again.find(key) >= 0 for key in keys)
    assert sorted(again.unseen()) == sorted(keys)  # a snapshot holds no marks


def test_a_snapshot_cut_short_is_refused() -> None:
    built = KeySet.build(range(100))
    chunks = [(bytes(s), bytes(e)) for s, e in built.chunks(32)]
    with pytest.raises(ValueError, match="do not fill"):
        KeySet.from_chunks(built.size, len(built), chunks[:-1])


def test_a_million_keys_take_under_twenty_four_bytes_each() -> None:
    spread = range(-(2**62), 2**62, 2**63 // 1_000_000)
    built = KeySet.build(spread)
    assert len(built) == len(spread) > 1_000_000
    assert built.nbytes < 24 * len(built)
