"""Overlap reports per speaker, checked by hand and against a brute-force reference."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from schedules.conflicts import Slot, conflicts_by_speaker, find_conflicts

T0 = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)


def slot(key, speakers, start_min, duration_s=60.0, repeat=1, gap=0.0, priority="normal", label=None):
    return Slot(
        key,
        frozenset(speakers),
        T0 + timedelta(minutes=start_min),
        duration_s,
        repeat,
        gap,
        priority,
        label or key,
    )


def test_airtime_counts_repeats_and_gaps():
    s = slot("a", {"s1"}, 0, duration_s=60, repeat=3, gap=120)
    assert s.end_utc - s.start_utc == timedelta(seconds=3 * 60 + 2 * 120)


def test_overlap_reported_with_shared_speakers_labels_and_window():
    new = slot("new", {"ap1-a", "ap2-a", "ap3-a"}, 0, duration_s=60, repeat=3, gap=120, label="Họp dân 06:00")
    existing = slot("old", {"ap2-a", "ap3-a", "ap9-a"}, 6, duration_s=300, label="Tin tức 06:06")
    [conflict] = find_conflicts([new], [existing])
    assert conflict.new is new and conflict.other is existing
    assert conflict.speaker_ids == {"ap2-a", "ap3-a"}
    assert conflict.overlap_start_utc == T0 + timedelta(minutes=6)
    assert conflict.overlap_end_utc == T0 + timedelta(minutes=7)
    assert conflict.overlap_s == 60
    assert "Họp dân 06:00" in conflict.describe_vi() and "Tin tức 06:06" in conflict.describe_vi()
    assert "60 s on 2 speaker(s): ap2-a, ap3-a" in conflict.describe_en()
    grouped = conflicts_by_speaker([conflict])
    assert sorted(grouped) == ["ap2-a", "ap3-a"]


def test_no_conflict_on_other_speakers_or_back_to_back():
    a = slot("a", {"s1"}, 0, duration_s=60)
    assert find_conflicts([a], [slot("b", {"s2"}, 0)]) == []
    assert find_conflicts([a], [slot("c", {"s1"}, 1)]) == []  # starts as a ends
    assert find_conflicts([a], [slot("d", {"s1"}, -1)]) == []  # ends as a starts
    assert find_conflicts([slot("z", {"s1"}, 0, duration_s=0)], [slot("e", {"s1"}, 0)]) == []


def test_new_slots_conflict_with_each_other_but_existing_pairs_are_not_reported():
    new = [slot("n1", {"s1"}, 0, duration_s=600), slot("n2", {"s1"}, 5)]
    existing = [slot("e1", {"s2"}, 0, duration_s=600), slot("e2", {"s2"}, 5)]
    conflicts = find_conflicts(new, existing)
    assert [(c.new.key, c.other.key) for c in conflicts] == [("n1", "n2")]


def test_same_key_is_the_same_occurrence_not_a_conflict():
    # Editing a schedule: its old version may still be in `existing` under the same occurrence key.
    assert find_conflicts([slot("42@x", {"s1"}, 0)], [slot("42@x", {"s1"}, 0)]) == []


def test_results_ordered_by_overlap_start():
    new = [slot("late", {"s1"}, 30), slot("early", {"s1"}, 0)]
    existing = [slot("x", {"s1"}, 0), slot("y", {"s1"}, 30)]
    assert [c.new.key for c in find_conflicts(new, existing)] == ["early", "late"]


def test_a_few_thousand_slots_on_nine_speakers():
    speakers = [f"ap{i}" for i in range(9)]
    # A month of 3 broadcasts a day on all speakers, plus hamlet-only notices, none overlapping.
    existing = [
        slot(f"e{d}-{h}", speakers, d * 1440 + h * 60, duration_s=600) for d in range(30) for h in (6, 12, 17)
    ]
    existing += [
        slot(f"h{d}-{i}", {speakers[i]}, d * 1440 + 8 * 60 + i, duration_s=50)
        for d in range(30)
        for i in range(9)
    ]
    # Four copies under distinct keys (say four hamlet groups' programmes): 1,440 slots in all.
    existing = [
        Slot(f"{s.key}#{n}", s.speaker_ids, s.start_utc, s.duration_s, 1, 0, "normal", s.label)
        for n in range(4)
        for s in existing
    ]
    new = [slot(f"n{d}", speakers, d * 1440 + 6 * 60 + 5, duration_s=60) for d in range(30)]
    conflicts = find_conflicts(new, existing)
    # each new slot overlaps the 4 copies of that day's 06:00 broadcast on all 9 speakers
    assert len(existing) == 4 * (90 + 270)
    assert len(conflicts) == 30 * 4
    assert all(len(c.speaker_ids) == 9 for c in conflicts)


def brute_force(new, existing):
    out = set()
    everything = [(s, True) for s in new] + [(s, False) for s in existing]
    for i, (a, a_new) in enumerate(everything):
        for b, b_new in everything[i + 1 :]:
            if not (a_new or b_new) or a.key == b.key:
                continue
            shared = a.speaker_ids & b.speaker_ids
            occupied = a.end_utc > a.start_utc and b.end_utc > b.start_utc  # zero airtime occupies nothing
            if shared and occupied and a.start_utc < b.end_utc and b.start_utc < a.end_utc:
                out.add((frozenset({a.key, b.key}), shared))
    return out


slot_strategy = st.builds(
    slot,
    key=st.text("abcdefgh", min_size=1, max_size=3),
    speakers=st.frozensets(st.sampled_from(["s1", "s2", "s3"]), min_size=1),
    start_min=st.integers(0, 60),
    duration_s=st.sampled_from([0.0, 30.0, 60.0, 300.0]),
    repeat=st.integers(1, 3),
    gap=st.sampled_from([0.0, 60.0]),
)


@settings(max_examples=300, deadline=None)
@given(new=st.lists(slot_strategy, max_size=6), existing=st.lists(slot_strategy, max_size=10))
def test_sweep_matches_brute_force(new, existing):
    # Keys are unique per list in real use; drop duplicates so pairs are well defined.
    new = list({s.key: s for s in new}.values())
    existing = [s for s in {s.key: s for s in existing}.values() if s.key not in {n.key for n in new}]
    got = {(frozenset({c.new.key, c.other.key}), c.speaker_ids) for c in find_conflicts(new, existing)}
    assert got == brute_force(new, existing)
