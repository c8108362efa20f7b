"""CAP 1.2 documents shaped like real ones (An Giang hydro-meteorological warnings), dated from a clock."""

from __future__ import annotations

from datetime import datetime, timedelta

NS = "urn:oasis:names:tc:emergency:cap:1.2"
SENDER = "canhbao@kttv-angiang.gov.vn"
# Two hamlets of the test commune, as (lat, lon) boxes; a third lies apart.
HAMLET_BOXES = {
    "Ấp Mỹ An": (10.40, 105.40, 10.42, 105.42),
    "Ấp Mỹ Hòa": (10.42, 105.40, 10.44, 105.42),
    "Ấp Mỹ Thới": (10.50, 105.50, 10.52, 105.52),
}
PROVINCE_CODE = "89"  # An Giang's administrative code


def t(instant: datetime) -> str:
    """CAP date-time: seconds and an explicit +07:00 offset."""
    from zoneinfo import ZoneInfo

    return instant.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).replace(microsecond=0).isoformat()


def box_polygon(lat1: float, lon1: float, lat2: float, lon2: float) -> str:
    """A closed CAP polygon around a box."""
    pts = [(lat1, lon1), (lat1, lon2), (lat2, lon2), (lat2, lon1), (lat1, lon1)]
    return " ".join(f"{a},{b}" for a, b in pts)


def info(*, language="vi-VN", event="Lũ", urgency="Immediate", severity="Severe",
         certainty="Observed", expires: datetime | None, headline="Cảnh báo lũ khẩn cấp",
         description="Mực nước sông Hậu tại Châu Đốc đang lên nhanh, vượt báo động 3.",
         instruction="Người dân vùng trũng di chuyển đồ đạc lên cao, chuẩn bị sơ tán.",
         areas: str = "", parameters: dict | None = None) -> str:
    """One <info> block."""
    params = "".join(f"<parameter><valueName>{k}</valueName><value>{v}</value></parameter>"
                     for k, v in (parameters or {}).items())
    exp = f"<expires>{t(expires)}</expires>" if expires else ""
    return (f"<info><language>{language}</language><category>Met</category><event>{event}</event>"
            f"<responseType>Prepare</responseType><urgency>{urgency}</urgency><severity>{severity}</severity>"
            f"<certainty>{certainty}</certainty>{exp}"
            f"<senderName>Đài Khí tượng Thủy văn An Giang</senderName><headline>{headline}</headline>"
            f"<description>{description}</description><instruction>{instruction}</instruction>"
            f"{params}{areas}</info>")


def polygon_area(desc: str, *hamlets: str) -> str:
    """An <area> with one polygon per hamlet box."""
    polys = "".join(f"<polygon>{box_polygon(*HAMLET_BOXES[h])}</polygon>" for h in hamlets)
    return f"<area><areaDesc>{desc}</areaDesc>{polys}</area>"


def geocode_area(desc: str, code: str, name: str = "PROVINCE") -> str:
    """An <area> named by one geocode."""
    return (f"<area><areaDesc>{desc}</areaDesc><geocode><valueName>{name}</valueName>"
            f"<value>{code}</value></geocode></area>")


def alert(*, identifier: str, sent: datetime, infos: str, status="Actual", msg_type="Alert",
          references: str = "", sender=SENDER, ns=NS) -> bytes:
    """A whole CAP document."""
    refs = f"<references>{references}</references>" if references else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<alert xmlns="{ns}">'
            f"<identifier>{identifier}</identifier>"
            f"<sender>{sender}</sender><sent>{t(sent)}</sent><status>{status}</status>"
            f"<msgType>{msg_type}</msgType><scope>Public</scope>{refs}{infos}</alert>").encode()


def flood(now: datetime, identifier="AG-LU-001", **kw) -> bytes:
    """A flood warning for two hamlets by polygon, expiring in 3 hours."""
    area = polygon_area("Ấp Mỹ An, Ấp Mỹ Hòa", "Ấp Mỹ An", "Ấp Mỹ Hòa")
    return alert(identifier=identifier, sent=now, infos=info(expires=now + timedelta(hours=3),
                                                             areas=area, **kw))


def storm(now: datetime, identifier="AG-BAO-007", **kw) -> bytes:
    """A province-wide storm alert by geocode (Severe, Expected: a draft by the default policy)."""
    area = geocode_area("Toàn tỉnh An Giang", PROVINCE_CODE)
    kw.setdefault("urgency", "Expected")
    return alert(identifier=identifier, sent=now, infos=info(
        event="Bão", headline="Tin bão số 9", description="Bão số 9 đang hướng vào Nam Bộ.",
        instruction="Chằng chống nhà cửa.", expires=now + timedelta(hours=12), areas=area, **kw))


def reference(identifier: str, sent: datetime, sender=SENDER) -> str:
    """A CAP <references> entry."""
    return f"{sender},{identifier},{t(sent)}"


def cancel(now: datetime, of: str, of_sent: datetime, identifier="AG-LU-001-HUY") -> bytes:
    """A Cancel of an earlier alert."""
    area = polygon_area("Ấp Mỹ An, Ấp Mỹ Hòa", "Ấp Mỹ An", "Ấp Mỹ Hòa")
    return alert(identifier=identifier, sent=now, msg_type="Cancel", references=reference(of, of_sent),
                 infos=info(expires=now + timedelta(hours=1), headline="Hủy cảnh báo lũ", areas=area))


def english_only(now: datetime) -> bytes:
    """An alert with only an English <info>."""
    area = polygon_area("My An", "Ấp Mỹ An")
    return alert(identifier="AG-EN-1", sent=now, infos=info(
        language="en-US", headline="Flash flood warning", description="River rising fast.",
        instruction="Move to higher ground.", expires=now + timedelta(hours=2), areas=area))
