"""Fill web/translations/vi/LC_MESSAGES/messages.po from the .pot and this table, then compile.

Developer tool: `python tools/vi_catalog.py`. Existing translations in the .po win over the
table, so edits made in the .po are kept; a msgid with no translation anywhere fails loudly.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
POT = ROOT / "web/translations/messages.pot"
PO = ROOT / "web/translations/vi/LC_MESSAGES/messages.po"
MO = PO.with_suffix(".mo")

# New msgids get their Vietnamese here; once written into the .po (which is then the
# source of truth, edited directly) they may be removed from this table.
VI: dict[str, str] = {
    "Province link": "Kết nối tỉnh",
    "The link to the provincial source system is off. An administrator turns it on in the settings "
    "file ([province] enabled = true).":
        "Kết nối với hệ thống thông tin nguồn của tỉnh đang tắt. Quản trị viên bật trong tệp cấu "
        "hình ([province] enabled = true).",
    "Records for the province have been waiting for more than %(m)s minutes (oldest: %(t)s).":
        "Có bản ghi gửi tỉnh đã chờ quá %(m)s phút (cũ nhất: %(t)s).",
    "Link state": "Trạng thái kết nối",
    "Connected": "Đang kết nối",
    "Cannot reach the province": "Không gửi được lên tỉnh",
    "Province address": "Địa chỉ hệ thống của tỉnh",
    "Last successful send": "Lần gửi thành công gần nhất",
    "Records waiting": "Bản ghi đang chờ gửi",
    "oldest %(m)s minutes": "cũ nhất %(m)s phút",
    "The commune reports the state of its speakers and what it aired. Nothing is lost while the "
    "province cannot be reached: records wait here and are sent in order when it is back.":
        "Xã báo cáo trạng thái cụm loa và nhật ký phát bản tin. Khi không kết nối được với tỉnh, "
        "không mất bản ghi nào: bản ghi chờ ở đây và được gửi theo thứ tự khi kết nối lại.",
    "Priority level": "Mức ưu tiên",
    "Normal health": "Bình thường",
    "and %(n)s more overlaps": "và %(n)s lần trùng giờ khác",
    "Active schedules": "Lịch phát đang hoạt động",
    "No active schedule.": "Chưa có lịch phát nào.",
    "Backups": "Sao lưu",
    "The last successful backup is more than 2 days old.": "Lần sao lưu thành công gần nhất đã quá 2 ngày.",
    "There is no successful backup yet.": "Chưa có bản sao lưu thành công nào.",
    "Last successful backup": "Lần sao lưu thành công gần nhất",
    "never": "chưa có",
    "%(h)s hours ago": "%(h)s giờ trước",
    "File": "Tệp",
    "Backups kept": "Số bản sao lưu đang giữ",
    "Last failure": "Lần lỗi gần nhất",
    "Back up now": "Sao lưu ngay",
    "A backup holds the database, the audio, the keys and the settings. Copy the files to another "
    "disk or computer: a backup on the same SD card dies with it.":
        "Bản sao lưu gồm cơ sở dữ liệu, âm thanh, khóa và cấu hình. Hãy chép các tệp sang ổ đĩa hoặc "
        "máy tính khác: bản sao lưu nằm trên cùng thẻ nhớ sẽ mất theo thẻ nhớ.",
    "The backup failed: %(reason)s": "Sao lưu thất bại: %(reason)s",
    "Backup written: %(name)s": "Đã sao lưu: %(name)s",
    "Relay and live airtime per hamlet (minutes)": "Số phút tiếp sóng và phát trực tiếp theo ấp",
    "Relay": "Tiếp sóng",
    "Live": "Trực tiếp",
    "No relay or live session in this period.": "Không có phiên tiếp sóng hay trực tiếp nào trong kỳ.",
    "Relay and live sessions per speaker": "Các phiên tiếp sóng, trực tiếp theo từng loa",
    "Session": "Phiên",
    "Started": "Bắt đầu",
    "Stopped": "Kết thúc",
    "Seconds aired": "Số giây đã phát",
    "Gaps": "Gián đoạn",
    "Relay and live log": "Nhật ký tiếp sóng và trực tiếp",
    "Playing the stream": "Đang phát luồng",
    "Stream interrupted": "Luồng bị gián đoạn",
    "Stream stopped": "Luồng đã dừng",
    "Ended": "Đã kết thúc",
    "Stop sent": "Đã gửi lệnh dừng",
    "Only a leader (approver) or an admin may use emergency priority.":
        "Chỉ lãnh đạo (người duyệt) hoặc quản trị viên được dùng mức khẩn cấp.",
    "This needs a leader's approval.": "Việc này cần lãnh đạo duyệt.",
    "An admin manages the whole commune and cannot be limited to hamlets.":
        "Quản trị viên quản lý cả xã, không thể giới hạn theo ấp.",
    "%(hamlet)s is not one of your hamlets: you may only send to your own.":
        "%(hamlet)s không thuộc ấp của bạn: bạn chỉ được phát cho ấp của mình.",
    "Only these hamlets (none ticked: the whole commune)":
        "Chỉ các ấp này (không chọn ấp nào: cả xã)",
}


def main() -> int:
    """Extract, merge, check completeness, write .po and .mo."""
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
                    "-k", "_l", "-o", str(POT), "--no-location", "--omit-header", "."],
                   cwd=ROOT, check=True, capture_output=True)
    with POT.open("rb") as f:
        template = read_po(f)
    old = {}
    if PO.exists():
        with PO.open("rb") as f:
            old = {m.id: m.string for m in read_po(f) if m.id and m.string}
    template.locale = "vi"
    template.fuzzy = False
    missing = []
    for m in template:
        if not m.id:
            continue
        m.string = old.get(m.id) or VI.get(m.id, "")
        if not m.string:
            missing.append(m.id)
    if missing:
        print("untranslated:", *missing, sep="\n  ", file=sys.stderr)
        return 1
    template.project = "commune-radio"
    template.language_team = "vi"
    template.header_comment = "# Vietnamese translations for commune-radio (the default UI language)."
    PO.parent.mkdir(parents=True, exist_ok=True)
    with PO.open("wb") as f:
        write_po(f, template, width=100, omit_header=False, no_location=True)
    with MO.open("wb") as f:
        write_mo(f, template)
    print(f"wrote {PO.relative_to(ROOT)} and {MO.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
