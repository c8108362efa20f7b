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
    "Preparing the speech": "Đang tạo giọng đọc",
    "Speaker moved": "Chuyển loa sang ấp khác",
    "%(actor)s moved the speaker %(speaker)s to %(detail)s.":
        "%(actor)s đã chuyển %(speaker)s sang %(detail)s.",
    "Software updates": "Cập nhật phần mềm loa",
    "New version (.whl file)": "Phiên bản mới (tệp .whl)",
    "or a version already published": "hoặc một phiên bản đã đăng",
    "Install on": "Cài đặt cho",
    "the whole commune": "toàn xã",
    "Try one hamlet first; when its speakers report the new version, install on the whole commune.":
        "Hãy thử một ấp trước; khi các loa của ấp báo phiên bản mới thì cài cho toàn xã.",
    "Publish and install": "Đăng và cài đặt",
    "Version %(version)s will be installed on: %(where)s.":
        "Phiên bản %(version)s sẽ được cài cho: %(where)s.",
    "The file %(name)s is not a commune-radio installation package (.whl).":
        "Tệp %(name)s không phải gói cài đặt commune-radio (.whl).",
    "The information inside %(name)s does not match its file name.":
        "Thông tin bên trong %(name)s không khớp với tên tệp.",
    "Version %(version)s is not valid (it must look like 1.2.3).":
        "Phiên bản %(version)s không hợp lệ (phải có dạng 1.2.3).",
    "The package %(name)s holds no speaker software.": "Gói %(name)s không chứa phần mềm loa.",
    "Version %(version)s was already published with another package; give the new package a new version.":
        "Phiên bản %(version)s đã được đăng với một gói khác; hãy đặt số phiên bản mới cho gói mới.",
    "Version %(version)s has not been published.": "Phiên bản %(version)s chưa được đăng.",
    "Choose a hamlet or the whole commune.": "Hãy chọn một ấp hoặc toàn xã.",
    "There is no hamlet named %(name)s.": "Không có ấp nào tên %(name)s.",
    "There is no speaker %(name)s.": "Không có loa %(name)s.",
    "%(done)s of %(n)s speakers run their target version; %(failed)s failed.":
        "%(done)s/%(n)s loa đã chạy đúng phiên bản đích; %(failed)s loa cập nhật lỗi.",
    "Version": "Phiên bản",
    "Target version": "Phiên bản đích",
    "Update": "Cập nhật",
    "Waiting": "Đang chờ",
    "Sent": "Đã gửi",
    "Received, waiting for silence": "Loa đã nhận, chờ lúc không phát",
    "Installed": "Đã cài đặt",
    "Failed": "Lỗi",
    "Refused by the speaker": "Loa từ chối",
    "Rolled back": "Đã quay về bản cũ",
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
    "Every delivery has ended.": "Mọi lượt phát đã kết thúc.",
    "Missed or failed": "Bị lỡ hoặc lỗi",
    "No outcome yet": "Chưa có kết quả",
    "These deliveries had neither played nor ended when this report was made; the State column "
    "says how far they got.": "Các lượt phát này chưa phát xong và chưa kết thúc khi lập báo cáo; "
    "cột Trạng thái cho biết đã đến bước nào.",
    # tiếp sóng (web/ui/relays.py, sources.html, relays.html)
    "Relay sources": "Nguồn tiếp sóng",
    "Relays": "Tiếp sóng",
    "Station": "Đài",
    "Stream address": "Địa chỉ luồng",
    "Format": "Định dạng",
    "Listen": "Nghe thử",
    "not checked": "chưa kiểm tra được",
    "Backup": "Dự phòng",
    "No source yet.": "Chưa có nguồn nào.",
    "Add a station": "Thêm đài",
    "Station name": "Tên đài",
    "Stream address (MP3, AAC, Opus or HLS .m3u8)": "Địa chỉ luồng (MP3, AAC, Opus hoặc HLS .m3u8)",
    "Backup address (optional)": "Địa chỉ dự phòng (không bắt buộc)",
    "Save anyway (the station is off the air now)": "Vẫn lưu (đài đang tạm ngừng phát)",
    "Check and save": "Kiểm tra và lưu",
    "Source %(name)s was saved.": "Đã lưu nguồn %(name)s.",
    "Choose a source and a duration.": "Hãy chọn đài và thời lượng.",
    "Speaker %(speaker)s is already relaying %(title)s until %(until)s.":
        "Loa %(speaker)s đang tiếp sóng %(title)s đến %(until)s (trùng giờ).",
    "Relay %(id)s started.": "Đã bắt đầu tiếp sóng #%(id)s.",
    "Relay %(id)s stopped.": "Đã dừng tiếp sóng #%(id)s.",
    "On air": "Đang phát",
    "Stalled (no sound)": "Mất tín hiệu (không có tiếng)",
    "Daily relays are scheduled in the calendar": "Tiếp sóng hằng ngày được đặt trong lịch phát",
    "Relay now": "Tiếp sóng ngay",
    "Where": "Nơi phát",
    "For how long": "Trong bao lâu",
    "%(n)s minutes": "%(n)s phút",
    "Start relaying": "Bắt đầu tiếp sóng",
    "Add a station first.": "Hãy thêm đài trước.",
    "On air and recent relays": "Đang tiếp sóng và gần đây",
    "on the backup source": "đang dùng nguồn dự phòng",
    "Gaps: %(n)s": "Gián đoạn: %(n)s",
    "now": "bây giờ",
    "Stop relaying": "Dừng tiếp sóng",
    "No relay yet.": "Chưa có lần tiếp sóng nào.",
    "The station does not answer at this address.": "Đài không trả lời ở địa chỉ này.",
    "This address answers, but it is not an audio stream.":
        "Địa chỉ này có trả lời nhưng không phải luồng âm thanh.",
    "This stream is not MP3, AAC or Opus.": "Luồng này không phải MP3, AAC hay Opus.",
    "A station with this name already exists.": "Đã có đài mang tên này.",
    "Type the station's name.": "Hãy nhập tên đài.",
    "The name is too long (at most 120 characters).": "Tên quá dài (tối đa 120 ký tự).",
    "Type the stream's address.": "Hãy nhập địa chỉ luồng.",
    "The address must start with http:// or https://.":
        "Địa chỉ phải bắt đầu bằng http:// hoặc https://.",
    "This controller accepts only stations on this machine.":
        "Bộ điều khiển này chỉ nhận đài trên chính máy này.",
    "The chosen station no longer exists.": "Đài đã chọn không còn nữa.",
    "This relay is no longer on air.": "Lần tiếp sóng này đã kết thúc.",
    "Choose a duration.": "Hãy chọn thời lượng.",
    "%(problem)s Not saved; tick \"Save anyway\" to keep it. (%(detail)s)":
        "%(problem)s Chưa lưu; đánh dấu \"Vẫn lưu\" nếu vẫn muốn giữ. (%(detail)s)",
    # scheduled relays (web/ui/relay_schedules.py, relay_schedule_form.py, relays.html)
    "Choose a station.": "Hãy chọn đài.",
    "Only a leader (approver) or an admin may schedule a relay.":
        "Chỉ lãnh đạo (người duyệt) hoặc quản trị viên mới được đặt lịch tiếp sóng.",
    "Relay schedule %(id)s paused.": "Đã tạm dừng lịch tiếp sóng #%(id)s.",
    "Relay schedule %(id)s resumed.": "Đã cho chạy lại lịch tiếp sóng #%(id)s.",
    "Relay schedule %(id)s cancelled.": "Đã hủy lịch tiếp sóng #%(id)s.",
    "This relay overlaps other broadcasts on the same speakers (listed below). Nothing was "
    "saved; change the time or tick \"Save anyway\".":
        "Lần tiếp sóng này trùng giờ với chương trình khác trên cùng loa (xem bên dưới). Chưa "
        "lưu gì; hãy đổi giờ hoặc đánh dấu \"Vẫn lưu\".",
    "Relay schedule %(id)s saved; it is in the calendar.":
        "Đã lưu lịch tiếp sóng #%(id)s; lịch đã có trong lịch phát.",
    "Saved despite the overlap: %(first)s": "Đã lưu dù trùng giờ: %(first)s",
    "Scheduled relays": "Lịch tiếp sóng",
    "Schedule a relay": "Đặt lịch tiếp sóng",
    "For example VOV1 from 06:00 for 30 minutes every day. It appears in the calendar like any "
    "schedule.": "Ví dụ: VOV1 từ 06:00 trong 30 phút hằng ngày. Lịch hiện trong lịch phát như "
    "mọi lịch khác.",
    "Save anyway (the overlap is intended)": "Vẫn lưu (cố ý trùng giờ)",
    "Save the relay schedule": "Lưu lịch tiếp sóng",
    "Paused": "Đang tạm dừng",
    "Pause": "Tạm dừng",
    "Resume": "Chạy lại",
    "Cancel the schedule": "Hủy lịch",
    "No scheduled relay.": "Chưa có lịch tiếp sóng nào.",
    "Updated at": "Cập nhật lúc",
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
