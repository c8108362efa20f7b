"""JSON Schemas of the upward messages, from the field set public implementations use."""

ISO_07 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$"

DEVICE_STATUS = {
    "type": "object",
    "required": ["NguonId", "CumLoaId", "TrangThaiHoatDong", "TrangThaiKetNoi", "AmLuong", "ViDo",
                 "KinhDo", "ThongTinThietBi", "PhienBanUngDung", "MaBanGhi"],
    "additionalProperties": False,
    "properties": {
        "NguonId": {"type": "string", "minLength": 1},
        "CumLoaId": {"type": "string", "minLength": 1},
        "TrangThaiHoatDong": {"enum": [0, 1]},
        "TrangThaiKetNoi": {"type": "string"},
        "AmLuong": {"type": ["integer", "null"], "minimum": 0, "maximum": 100},
        "ViDo": {"type": ["number", "null"], "minimum": -90, "maximum": 90},
        "KinhDo": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
        "ThongTinThietBi": {
            "type": "object", "required": ["NhietDo", "DungLuongSuDung"],
            "properties": {"NhietDo": {"type": ["number", "null"]},
                           "DungLuongSuDung": {"type": ["integer", "null"], "minimum": 0}}},
        "PhienBanUngDung": {"type": ["string", "null"]},
        "MaBanGhi": {"type": "string", "minLength": 8},
    },
}

AIRED_LOG = {
    "type": "object",
    "required": ["BanTinId", "CumLoaId", "ThoiDiemBatDau", "ThoiDiemKetThuc", "ThoiLuong",
                 "LoaiNhatKy", "GiaTri", "MucDoUuTien", "TieuDe", "LinhVuc", "MaBanGhi"],
    "additionalProperties": False,
    "properties": {
        "BanTinId": {"type": "string", "minLength": 1},
        "CumLoaId": {"type": "string", "minLength": 1},
        "ThoiDiemBatDau": {"type": "string", "pattern": ISO_07},
        "ThoiDiemKetThuc": {"type": "string", "pattern": ISO_07},
        "ThoiLuong": {"type": "string", "pattern": r"^\d{2,}:[0-5]\d:[0-5]\d$"},
        "LoaiNhatKy": {"enum": [0, 1]},
        "GiaTri": {"enum": [0, 1]},
        "MucDoUuTien": {"enum": [1, 2, 3]},
        "TieuDe": {"type": "string", "minLength": 1},
        "LinhVuc": {"type": "integer", "minimum": 1, "maximum": 6},
        "MaBanGhi": {"type": "string", "minLength": 8},
    },
}
