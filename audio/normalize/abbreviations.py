"""Administrative abbreviations of commune texts, and their expansion.

Matching is case-sensitive and whole-token: "CA xã" is Công an, "ca sĩ" is left alone.
Admins edit the dictionary in the database; this default seeds it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .spans import abbr

DEFAULT_ABBREVIATIONS: dict[str, str] = {
    # government and the Front
    "UBND": "Ủy ban nhân dân",
    "HĐND": "Hội đồng nhân dân",
    "UBMTTQVN": "Ủy ban Mặt trận Tổ quốc Việt Nam",
    "UBMTTTQVN": "Ủy ban Mặt trận Tổ quốc Việt Nam",  # misspelling seen in a real plan
    "UBMTTQ": "Ủy ban Mặt trận Tổ quốc",
    "MTTQVN": "Mặt trận Tổ quốc Việt Nam",
    "MTTQ": "Mặt trận Tổ quốc",
    "ĐU": "Đảng ủy",
    "TU": "Thành ủy",
    "HU": "Huyện ủy",
    "UBKT": "Ủy ban kiểm tra",
    "VP": "Văn phòng",
    "TM.": "Thay mặt",
    "KT.": "Ký thay",
    "VT": "Văn thư",
    "PCT": "Phó Chủ tịch",
    # places
    "TP.HCM": "Thành phố Hồ Chí Minh",
    "TPHCM": "Thành phố Hồ Chí Minh",
    "TP.": "thành phố",
    "Tp.": "thành phố",
    "TP": "thành phố",
    "ĐBSCL": "Đồng bằng sông Cửu Long",
    "QL": "Quốc lộ",
    "KP": "khu phố",
    # documents
    "KH": "Kế hoạch",
    "QĐ": "Quyết định",
    "NQ": "Nghị quyết",
    "TB": "Thông báo",
    "CV": "Công văn",
    "BC": "Báo cáo",
    # forces, safety, disaster
    "BCH": "Ban Chỉ huy",
    "BCHQS": "Ban Chỉ huy Quân sự",
    "QS": "Quân sự",
    "CA": "Công an",
    "BCĐ": "Ban Chỉ đạo",
    "PCCC": "phòng cháy chữa cháy",
    "PCTT": "phòng chống thiên tai",
    "TKCN": "tìm kiếm cứu nạn",
    "PCTT&TKCN": "phòng chống thiên tai và tìm kiếm cứu nạn",
    "KTTV": "khí tượng thủy văn",
    "ANTT": "an ninh trật tự",
    "ATGT": "an toàn giao thông",
    "ATTP": "an toàn thực phẩm",
    "CSGT": "Cảnh sát giao thông",
    "DQTV": "dân quân tự vệ",
    # mass organisations
    "HTX": "Hợp tác xã",
    "HND": "Hội Nông dân",
    "HLHPN": "Hội Liên hiệp Phụ nữ",
    "HCCB": "Hội Cựu chiến binh",
    "CCB": "Cựu chiến binh",
    "ĐTN": "Đoàn Thanh niên",
    "TNCS": "Thanh niên Cộng sản",
    # health, papers, schools, services
    "TTYT": "Trung tâm Y tế",
    "TYT": "Trạm Y tế",
    "BHYT": "bảo hiểm y tế",
    "BHXH": "bảo hiểm xã hội",
    "CCCD": "căn cước công dân",
    "CMND": "chứng minh nhân dân",
    "GPLX": "giấy phép lái xe",
    "GCNQSDĐ": "giấy chứng nhận quyền sử dụng đất",
    "THCS": "Trung học cơ sở",
    "THPT": "Trung học phổ thông",
    "VHTT": "Văn hóa Thông tin",
    "TTĐT": "Thông tin điện tử",
    "SĐT": "số điện thoại",
    "NN&PTNT": "Nông nghiệp và Phát triển nông thôn",
    "TN&MT": "Tài nguyên và Môi trường",
    "LĐTB&XH": "Lao động Thương binh và Xã hội",
}


@lru_cache(maxsize=8)
def _pattern(keys: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex for all keys, longest first, each a whole token."""
    if not keys:
        return None
    parts = []
    for key in sorted(keys, key=len, reverse=True):
        # a key that ends in "." ("TP.") may touch the next word: "TP.Long Xuyên"
        tail = "" if key.endswith(".") else r"(?![\w&])"
        parts.append(rf"(?<![\w&.]){re.escape(key)}{tail}")
    return re.compile("|".join(parts))


def expand_abbreviations(text: str, table: dict[str, str]) -> str:
    """Replace each abbreviation in table (case-sensitive, whole token) with its words."""
    table = {k.strip(): v.strip() for k, v in table.items() if k and k.strip()}
    pattern = _pattern(tuple(sorted(table)))
    if pattern is None:
        return text

    def repl(m: re.Match) -> str:
        words = abbr(table[m[0]])
        # "KT.CHỦ TỊCH": the dot was the only separator, so the words need a space
        if m[0].endswith(".") and m.end() < len(text) and text[m.end()].isalnum():
            words += " "
        return words

    return pattern.sub(repl, text)
