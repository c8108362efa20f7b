"""CAP 1.2 parsing: valid alerts are read, everything else is refused with a reason (no DB, fast)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.alerts import cap
from tests.alerts import fixtures as fx

NOW = datetime.now(UTC).replace(microsecond=0)

BILLION_LAUGHS = b'''<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol6;</identifier></alert>'''
EXTERNAL_ENTITY = (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                   b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
                   b"<identifier>&x;</identifier></alert>")


def test_flood_warning_is_read_with_its_areas_and_vietnamese_text():
    a = cap.parse(fx.flood(NOW))
    assert (a.identifier, a.sender, a.status, a.msg_type) == ("AG-LU-001", fx.SENDER, "Actual", "Alert")
    assert a.sent == NOW
    vi = a.vietnamese_info()
    assert vi.severity == "Severe" and vi.urgency == "Immediate"
    assert vi.headline == "Cảnh báo lũ khẩn cấp"
    assert len(vi.areas[0].polygons) == 2 and len(vi.areas[0].polygons[0]) == 5
    assert a.expires == NOW + timedelta(hours=3)
    assert len(a.sha256) == 64


def test_cancel_names_the_alert_it_cancels():
    a = cap.parse(fx.cancel(NOW, "AG-LU-001", NOW - timedelta(minutes=5)))
    assert a.msg_type == "Cancel"
    assert a.references[0].identifier == "AG-LU-001"


@pytest.mark.parametrize("doc, code, words", [
    (b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>x</ident", "malformed", "malformed"),
    (BILLION_LAUGHS, "doctype", "DOCTYPE"),
    (EXTERNAL_ENTITY, "doctype", "DOCTYPE"),
    (b"x" * 1_000_001, "too_large", "limit"),
    (b"", "empty", "empty"),
    (b"<html><body>Service unavailable</body></html>", "not_cap", "<html>"),
    (b"<" + b"<a>" * 40, "malformed", "malformed"),
])
def test_bad_documents_are_refused_with_the_reason(doc, code, words):
    with pytest.raises(cap.CapRefused) as exc:
        cap.parse(doc)
    assert exc.value.code == code
    assert words in str(exc.value)


def test_entities_hidden_from_the_prefilter_are_still_refused():
    """UTF-16 hides '<!DOCTYPE' from a byte search; the parsed document still shows the DTD."""
    doc = EXTERNAL_ENTITY.replace(b'<?xml version="1.0"?>', b"").decode().encode("utf-16")
    with pytest.raises(cap.CapRefused) as exc:
        cap.parse(doc)
    assert exc.value.code in ("doctype", "malformed")
    assert "passwd" not in str(exc.value)


def test_deep_nesting_is_refused_before_validation():
    doc = b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'>" + b"<a>" * 40 + b"</a>" * 40 + b"</alert>"
    with pytest.raises(cap.CapRefused) as exc:
        cap.parse(doc)
    assert exc.value.code == "too_deep"


def test_wrong_namespace_or_version_is_refused():
    with pytest.raises(cap.CapRefused) as exc:
        cap.parse(fx.flood(NOW).replace(b"cap:1.2", b"cap:1.1"))
    assert exc.value.code == "wrong_namespace" and "1.1" in str(exc.value)


def test_schema_errors_name_the_element():
    doc = fx.flood(NOW).replace(b"<severity>Severe</severity>", b"<severity>Terrible</severity>")
    with pytest.raises(cap.CapRefused) as exc:
        cap.parse(doc)
    assert exc.value.code == "invalid" and "severity" in str(exc.value)


def test_polygon_with_three_points_is_refused():
    with pytest.raises(cap.CapRefused, match="at least 4 points"):
        cap.parse_polygon("10.4,105.4 10.5,105.4 10.4,105.4")


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400) | st.text(max_size=300).map(lambda s: fx.flood(NOW).replace(
    b"<headline>", b"<headline>" + s.encode("utf-8", "surrogatepass"), 1)))
def test_fuzzed_input_is_either_an_alert_or_a_refusal(data):
    try:
        a = cap.parse(data)
    except cap.CapRefused as exc:
        assert exc.code and str(exc)
    else:
        assert a.identifier


def test_every_refusal_has_a_vietnamese_reason_for_the_page():
    from controller.alerts import reasons

    docs = [b"<a", BILLION_LAUGHS, b"x" * 1_000_001, b"", b"<html/>",
            fx.flood(NOW).replace(b"cap:1.2", b"cap:1.1"),
            fx.flood(NOW).replace(b"<severity>Severe</severity>", b"<severity>Bad</severity>")]
    for doc in docs:
        with pytest.raises(cap.CapRefused) as exc:
            cap.parse(doc)
        vi = reasons.vietnamese("refused", str(exc.value))
        assert vi != "Bị từ chối.", str(exc.value)
