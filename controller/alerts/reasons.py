"""The alert log's reasons in a clerk's Vietnamese; the English reason stays the technical record.

Reasons are written in English by the intake (for the API, the audit log and whoever debugs
a feed); the page shows this Vietnamese sentence with the English detail beside it.
"""

from __future__ import annotations

import re

BAD_POLYGON = "Vùng đa giác của cảnh báo không hợp lệ (ít hơn 4 điểm, không khép kín hoặc cạnh cắt nhau)."
# (start of the English reason, Vietnamese) for refusals, first match wins.
REFUSALS = (
    ("malformed XML", "Tài liệu XML bị lỗi cú pháp."),
    ("a DOCTYPE", "Tài liệu có khai báo DOCTYPE (thực thể XML): không được phép vì lý do an toàn."),
    ("the document has", "Tài liệu quá lớn."),
    ("the body has", "Tài liệu quá lớn."),
    ("the document is empty", "Tài liệu rỗng."),
    ("elements are nested", "Tài liệu lồng quá sâu."),
    ("the root element", "Không phải cảnh báo CAP."),
    ("namespace", "Không phải cảnh báo CAP phiên bản 1.2."),
    ("not valid CAP 1.2", "Không đúng lược đồ CAP 1.2."),
    ("a polygon", BAD_POLYGON),
    ("polygon", BAD_POLYGON),
    ("a circle", "Vòng tròn khu vực của cảnh báo không hợp lệ."),
    ("circle", "Vòng tròn khu vực của cảnh báo không hợp lệ."),
    ("the alert is not signed", "Cảnh báo không có chữ ký số mà nguồn tin này bắt buộc phải có."),
    ("the signature", "Chữ ký số của cảnh báo không hợp lệ."),
    ("the certificate of feed", "Không đọc được chứng thư số của nguồn tin."),
    ("expired at", "Cảnh báo đã hết hiệu lực khi nhận được."),
)
ACTIONS = {
    "emergency": "phát ngay (khẩn cấp)", "priority": "phát (ưu tiên)", "draft": "bản nháp chờ duyệt",
    "ignore": "bỏ qua",
}
STATUSES = {"Exercise": "Diễn tập", "System": "Tin hệ thống", "Draft": "Bản nháp của nơi gửi"}


def vietnamese(action: str, reason: str | None, refers_to: int | None = None) -> str:
    """The Vietnamese sentence for one alert-log line."""
    reason = reason or ""
    if action == "refused":
        for start, vi in REFUSALS:
            if reason.startswith(start) or start in reason[:60]:
                return vi
        return "Bị từ chối."
    if action == "duplicate":
        return "Trùng với cảnh báo đã nhận (cùng mã, nơi gửi và thời điểm gửi): bỏ qua."
    if action == "test":
        return "Cảnh báo thử nghiệm: chỉ ghi nhật ký, không phát."
    if action == "not_for_us":
        return "Khu vực cảnh báo không thuộc ấp nào của xã: không phát."
    if action == "unknown_ref":
        return "Cập nhật hoặc hủy một cảnh báo chưa từng nhận được ở đây."
    if action == "cancel":
        return f"Hủy cảnh báo #{refers_to}: dừng phát và dừng phát lại." if refers_to else "Hủy cảnh báo."
    if action == "failed":
        return "Lỗi khi tạo bản tin: không phát."
    if reason.startswith("status "):
        status = reason.split()[1]
        return f"{STATUSES.get(status, status)}: không bao giờ phát."
    if reason.startswith("msgType"):
        return "Tin xác nhận hoặc báo lỗi: không có gì để phát."
    if reason.startswith("no Vietnamese"):
        return "Không có nội dung tiếng Việt: bản nháp chờ người dịch, không tự phát."
    if reason.startswith("unsigned feed"):
        return "Nguồn tin không có chữ ký số: chỉ tạo bản nháp chờ duyệt."
    m = re.match(r"policy: (\w+) × (\w+) \((\w+)\) → (\w+)", reason)
    if m:
        return f"Theo bảng quy tắc ({m.group(1)} × {m.group(2)}): {ACTIONS.get(m.group(4), m.group(4))}."
    return reason
