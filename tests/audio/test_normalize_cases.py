"""Table of normalizer cases drawn from real commune announcement kinds.

Each row: (written text, spoken south, spoken north). north=None means both dialects
say the same. Expected readings were written by hand, not copied from the output.
"""

import pytest

from audio.normalize import normalize

CASES = [
    # --- number reading rules ---
    ("7.500", "bảy ngàn năm trăm", "bảy nghìn năm trăm"),
    ("3,5", "ba phẩy năm", None),
    ("1.000.000.000", "một tỷ", None),
    ("10", "mười", None),
    ("15", "mười lăm", None),
    ("20", "hai mươi", None),
    ("21", "hai mươi mốt", None),
    ("24", "hai mươi tư", None),
    ("25", "hai mươi lăm", None),
    ("11", "mười một", None),
    ("14", "mười bốn", None),
    ("105", "một trăm lẻ năm", "một trăm linh năm"),
    ("104", "một trăm lẻ bốn", "một trăm linh bốn"),
    ("110", "một trăm mười", None),
    ("1.005", "một ngàn không trăm lẻ năm", "một nghìn không trăm linh năm"),
    ("1.050", "một ngàn không trăm năm mươi", "một nghìn không trăm năm mươi"),
    ("2.000.005", "hai triệu không trăm lẻ năm", "hai triệu không trăm linh năm"),
    ("1.500.000", "một triệu năm trăm ngàn", "một triệu năm trăm nghìn"),
    ("2.500.000.000", "hai tỷ năm trăm triệu", None),
    ("1.000.000.000.000", "một ngàn tỷ", "một nghìn tỷ"),
    ("0", "không", None),
    ("3,05", "ba phẩy không năm", None),
    ("1.234,5", "một ngàn hai trăm ba mươi tư phẩy năm", "một nghìn hai trăm ba mươi tư phẩy năm"),
    # --- meetings ---
    ("Mời họp lúc 7h30 ngày 02/07/2024 tại hội trường UBND xã.",
     "Mời họp lúc bảy giờ ba mươi phút ngày hai tháng bảy năm hai ngàn không trăm hai mươi tư "
     "tại hội trường Ủy ban nhân dân xã.",
     "Mời họp lúc bảy giờ ba mươi phút ngày hai tháng bảy năm hai nghìn không trăm hai mươi tư "
     "tại hội trường Ủy ban nhân dân xã."),
    ("Họp lúc 14h thứ 2, ngày 15/7.", "Họp lúc mười bốn giờ thứ hai, ngày mười lăm tháng bảy.", None),
    ("Cuộc họp bắt đầu lúc 07:30.", "Cuộc họp bắt đầu lúc bảy giờ ba mươi phút.", None),
    ("Họp từ 7 giờ 30 đến 11 giờ.", "Họp từ bảy giờ ba mươi đến mười một giờ.", None),
    ("Thời gian: 7h-9h30 sáng thứ 4.",
     "Thời gian: bảy giờ đến chín giờ ba mươi phút sáng thứ tư.", None),
    ("Khai mạc lúc 14 giờ 00 phút.", "Khai mạc lúc mười bốn giờ.", None),
    ("Tập trung lúc 7g30 tại ấp 3.", "Tập trung lúc bảy giờ ba mươi phút tại ấp ba.", None),
    ("Mời đại diện HĐND, UBND, UBMTTQVN xã dự họp.",
     "Mời đại diện Hội đồng nhân dân, Ủy ban nhân dân, Ủy ban Mặt trận Tổ quốc Việt Nam xã dự họp.", None),
    ("Văn phòng HĐND-UBND xã thông báo.",
     "Văn phòng Hội đồng nhân dân Ủy ban nhân dân xã thông báo.", None),
    ("Mời BCH Hội Nông dân 09 ấp dự họp.", "Mời Ban Chỉ huy Hội Nông dân chín ấp dự họp.", None),
    ("Đại hội lần thứ 1 nhiệm kỳ 2024-2029.",
     "Đại hội lần thứ nhất nhiệm kỳ hai ngàn không trăm hai mươi tư "
     "đến hai ngàn không trăm hai mươi chín.",
     "Đại hội lần thứ nhất nhiệm kỳ hai nghìn không trăm hai mươi tư "
     "đến hai nghìn không trăm hai mươi chín."),
    ("Sơ kết quý II năm 2024.",
     "Sơ kết quý hai năm hai ngàn không trăm hai mươi tư.",
     "Sơ kết quý hai năm hai nghìn không trăm hai mươi tư."),
    ("Kỳ họp thứ 12 HĐND xã khóa XII.",
     "Kỳ họp thứ mười hai Hội đồng nhân dân xã khóa mười hai.", None),
    ("MTTQ xã tổ chức họp mặt lúc 8h.", "Mặt trận Tổ quốc xã tổ chức họp mặt lúc tám giờ.", None),
    # --- vaccination and health ---
    ("Tiêm vắc xin Covid-19 mũi 3 cho trẻ từ 5-11 tuổi.",
     "Tiêm vắc xin Covid mười chín mũi ba cho trẻ từ năm đến mười một tuổi.", None),
    ("Trạm Y tế tiêm chủng ngày 2-7, từ 7h đến 11h.",
     "Trạm Y tế tiêm chủng ngày hai tháng bảy, từ bảy giờ đến mười một giờ.", None),
    ("TYT xã tiêm ngừa dại cho 150 con chó.",
     "Trạm Y tế xã tiêm ngừa dại cho một trăm năm mươi con chó.", None),
    ("Tỷ lệ tiêm đạt 95%.", "Tỷ lệ tiêm đạt chín mươi lăm phần trăm.", None),
    ("Tỷ lệ bao phủ BHYT đạt 92,5%.",
     "Tỷ lệ bao phủ bảo hiểm y tế đạt chín mươi hai phẩy năm phần trăm.", None),
    ("Mang theo CCCD và thẻ BHYT.", "Mang theo căn cước công dân và thẻ bảo hiểm y tế.", None),
    ("Sốt trên 38,5°C cần đến TTYT ngay.",
     "Sốt trên ba mươi tám phẩy năm độ xê cần đến Trung tâm Y tế ngay.", None),
    ("Uống vitamin A cho trẻ từ 6-36 tháng tuổi, đợt 1 ngày 1/6.",
     "Uống vitamin A cho trẻ từ sáu đến ba mươi sáu tháng tuổi, đợt một ngày một tháng sáu.", None),
    ("Đã có 105 ca sốt xuất huyết.", "Đã có một trăm lẻ năm ca sốt xuất huyết.",
     "Đã có một trăm linh năm ca sốt xuất huyết."),
    # --- flood and storm warnings ---
    ("Bão số 3 gió cấp 8-9, giật cấp 11.",
     "Bão số ba gió cấp tám đến chín, giật cấp mười một.", None),
    ("Sức gió mạnh 60-80 km/h.", "Sức gió mạnh sáu mươi đến tám mươi ki lô mét một giờ.", None),
    ("Lượng mưa phổ biến 100-200mm.", "Lượng mưa phổ biến một trăm đến hai trăm mi li mét.", None),
    ("Mực nước lên 2,5 m trong 24h tới.",
     "Mực nước lên hai phẩy năm mét trong hai mươi tư giờ tới.", None),
    ("Đỉnh lũ tại Tân Châu 4,2m.", "Đỉnh lũ tại Tân Châu bốn phẩy hai mét.", None),
    ("Nhiệt độ thấp nhất -2°C.", "Nhiệt độ thấp nhất âm hai độ xê.", None),
    ("Nắng nóng 37-39 độ C.", "Nắng nóng ba mươi bảy đến ba mươi chín độ xê.", None),
    ("Nhiệt độ cao nhất 38oC.", "Nhiệt độ cao nhất ba mươi tám độ xê.", None),
    ("BCH PCTT&TKCN xã yêu cầu di dời 1.250 hộ dân.",
     "Ban Chỉ huy phòng chống thiên tai và tìm kiếm cứu nạn xã yêu cầu di dời "
     "một ngàn hai trăm năm mươi hộ dân.",
     "Ban Chỉ huy phòng chống thiên tai và tìm kiếm cứu nạn xã yêu cầu di dời "
     "một nghìn hai trăm năm mươi hộ dân."),
    ("Triều cường đạt đỉnh lúc 17h00 ngày 15/10.",
     "Triều cường đạt đỉnh lúc mười bảy giờ ngày mười lăm tháng mười.", None),
    ("Mưa lớn từ ngày 10-12/9.", "Mưa lớn từ ngày mười đến mười hai tháng chín.", None),
    ("Sạt lở 300 m bờ kênh.", "Sạt lở ba trăm mét bờ kênh.", None),
    ("Tin từ Đài KTTV tỉnh lúc 16h30.",
     "Tin từ Đài khí tượng thủy văn tỉnh lúc mười sáu giờ ba mươi phút.", None),
    ("Có 3.200 ha lúa bị ngập.", "Có ba ngàn hai trăm héc ta lúa bị ngập.",
     "Có ba nghìn hai trăm héc ta lúa bị ngập."),
    # --- tax and fee deadlines ---
    ("Hạn nộp thuế đất trước ngày 31/10/2024.",
     "Hạn nộp thuế đất trước ngày ba mươi mốt tháng mười năm hai ngàn không trăm hai mươi tư.",
     "Hạn nộp thuế đất trước ngày ba mươi mốt tháng mười năm hai nghìn không trăm hai mươi tư."),
    ("Lệ phí 50.000 đồng/hồ sơ.", "Lệ phí năm mươi ngàn đồng/hồ sơ.", "Lệ phí năm mươi nghìn đồng/hồ sơ."),
    ("Phí vệ sinh 20.000đ/tháng.", "Phí vệ sinh hai mươi ngàn đồng một tháng.",
     "Phí vệ sinh hai mươi nghìn đồng một tháng."),
    ("Mức đóng BHXH tự nguyện 330.000 VNĐ.",
     "Mức đóng bảo hiểm xã hội tự nguyện ba trăm ba mươi ngàn đồng.",
     "Mức đóng bảo hiểm xã hội tự nguyện ba trăm ba mươi nghìn đồng."),
    ("Nộp thuế trong tháng 4/2024.",
     "Nộp thuế trong tháng tư năm hai ngàn không trăm hai mươi tư.",
     "Nộp thuế trong tháng tư năm hai nghìn không trăm hai mươi tư."),
    ("Thời hạn nộp là tháng 12.", "Thời hạn nộp là tháng mười hai.", None),
    ("Hạn chót tháng 1 năm sau.", "Hạn chót tháng một năm sau.", None),
    ("Phạt chậm nộp 0,03% mỗi ngày.", "Phạt chậm nộp không phẩy không ba phần trăm mỗi ngày.", None),
    ("Tổng thu 1,5 tỷ đồng.", "Tổng thu một phẩy năm tỷ đồng.", None),
    ("Lãi suất 6,5%/năm.", "Lãi suất sáu phẩy năm phần trăm/năm.", None),
    ("Theo Thông báo số 12/TB-UBND.", "Theo Thông báo số mười hai Thông báo Ủy ban nhân dân.", None),
    # --- lost papers ---
    ("Ai nhặt được CCCD số 089123456789 xin liên hệ 0912 345 678.",
     "Ai nhặt được căn cước công dân số không tám chín một hai ba bốn năm sáu bảy tám chín "
     "xin liên hệ không chín một hai, ba bốn năm, sáu bảy tám.", None),
    ("Liên hệ SĐT 0987654321.", "Liên hệ số điện thoại không chín tám bảy, sáu năm bốn, ba hai một.", None),
    ("Điện thoại: 0296.3.841.234.",
     "Điện thoại: không hai chín sáu, ba, tám bốn một, hai ba bốn.", None),
    ("Gọi 114 khi có cháy.", "Gọi một một bốn khi có cháy.", None),
    ("Đánh rơi GPLX và giấy tờ xe F0.", "Đánh rơi giấy phép lái xe và giấy tờ xe F không.", None),
    ("Mất CMND cấp ngày 05/3/2015.",
     "Mất chứng minh nhân dân cấp ngày năm tháng ba năm hai ngàn không trăm mười lăm.",
     "Mất chứng minh nhân dân cấp ngày năm tháng ba năm hai nghìn không trăm mười lăm."),
    ("Liên hệ CA xã hoặc số +84 912 345 678.",
     "Liên hệ Công an xã hoặc số cộng tám tư, chín một hai, ba bốn năm, sáu bảy tám.", None),
    ("Nhặt được ví có 2.000.000 đồng.", "Nhặt được ví có hai triệu đồng.", None),
    # --- agricultural prices ---
    ("Giá lúa IR 50404 từ 7.500 đ/kg.",
     "Giá lúa IR năm mươi ngàn bốn trăm lẻ bốn từ bảy ngàn năm trăm đồng một ki lô gam.",
     "Giá lúa IR năm mươi nghìn bốn trăm linh bốn từ bảy nghìn năm trăm đồng một ki lô gam."),
    ("Giá lúa OM 5451 dao động 7.200-7.400 đồng/kg.",
     "Giá lúa OM năm ngàn bốn trăm năm mươi mốt dao động bảy ngàn hai trăm đến bảy ngàn bốn trăm "
     "đồng một ki lô gam.",
     "Giá lúa OM năm nghìn bốn trăm năm mươi mốt dao động bảy nghìn hai trăm đến bảy nghìn bốn trăm "
     "đồng một ki lô gam."),
    ("Heo hơi 62.000đ/kg, tăng 2.000đ.",
     "Heo hơi sáu mươi hai ngàn đồng một ki lô gam, tăng hai ngàn đồng.",
     "Heo hơi sáu mươi hai nghìn đồng một ki lô gam, tăng hai nghìn đồng."),
    ("Năng suất 6,8 tấn/ha.", "Năng suất sáu phẩy tám tấn/ha.", None),
    ("Xoài cát Hòa Lộc 35.000 VNĐ/kg.", "Xoài cát Hòa Lộc ba mươi lăm ngàn đồng một ki lô gam.",
     "Xoài cát Hòa Lộc ba mươi lăm nghìn đồng một ki lô gam."),
    ("Hỗ trợ 1.000.000 đồng/ha lúa.", "Hỗ trợ một triệu đồng một héc ta lúa.", None),
    ("Diện tích 5.000 m2 đất ruộng.", "Diện tích năm ngàn mét vuông đất ruộng.",
     "Diện tích năm nghìn mét vuông đất ruộng."),
    ("Bán 120 m² đất thổ cư.", "Bán một trăm hai mươi mét vuông đất thổ cư.", None),
    ("Bao phân 50 kg giá 750.000 đồng.", "Bao phân năm mươi ki lô gam giá bảy trăm năm mươi ngàn đồng.",
     "Bao phân năm mươi ki lô gam giá bảy trăm năm mươi nghìn đồng."),
    ("HTX thu mua 300-400 tấn.", "Hợp tác xã thu mua ba trăm đến bốn trăm tấn.", None),
    ("Giá giảm 10-15% so với tuần trước.", "Giá giảm mười đến mười lăm phần trăm so với tuần trước.", None),
    ("Cá tra loại 1 giá 28.500 đ/kg.", "Cá tra loại một giá hai mươi tám ngàn năm trăm đồng một ki lô gam.",
     "Cá tra loại một giá hai mươi tám nghìn năm trăm đồng một ki lô gam."),
    ("Kênh dài 2,5 km.", "Kênh dài hai phẩy năm ki lô mét.", None),
    # --- sample plan (ke-hoach-chinh-quyen-than-thien-2024.txt) ---
    ("Thực hiện kế hoạch số 5429/KH-UBND ngày 02/07/2024 của UBND thành phố Long Xuyên",
     "Thực hiện kế hoạch số năm ngàn bốn trăm hai mươi chín Kế hoạch Ủy ban nhân dân ngày hai tháng bảy "
     "năm hai ngàn không trăm hai mươi tư của Ủy ban nhân dân thành phố Long Xuyên",
     "Thực hiện kế hoạch số năm nghìn bốn trăm hai mươi chín Kế hoạch Ủy ban nhân dân ngày hai tháng bảy "
     "năm hai nghìn không trăm hai mươi tư của Ủy ban nhân dân thành phố Long Xuyên"),
    ("Thực hiện Kế hoạch số 118-KH/TU ngày 26/4/2024 của Ban Thường vụ",
     "Thực hiện Kế hoạch số một trăm mười tám Kế hoạch Thành ủy ngày hai mươi sáu tháng tư "
     "năm hai ngàn không trăm hai mươi tư của Ban Thường vụ",
     "Thực hiện Kế hoạch số một trăm mười tám Kế hoạch Thành ủy ngày hai mươi sáu tháng tư "
     "năm hai nghìn không trăm hai mươi tư của Ban Thường vụ"),
    ("I. MỤC ĐÍCH, YÊU CẦU", "một. MỤC ĐÍCH, YÊU CẦU", None),
    ("II. NHIỆM VỤ, GIẢI PHÁP (Phụ lục đính kèm)", "hai. NHIỆM VỤ, GIẢI PHÁP (Phụ lục đính kèm)", None),
    ("III. TỔ CHỨC THỰC HIỆN", "ba. TỔ CHỨC THỰC HIỆN", None),
    ("1. Văn phòng HĐND - UBND xã", "một. Văn phòng Hội đồng nhân dân - Ủy ban nhân dân xã", None),
    ("trước ngày 15 tháng 12 năm 2024.",
     "trước ngày mười lăm tháng mười hai năm hai ngàn không trăm hai mươi tư.",
     "trước ngày mười lăm tháng mười hai năm hai nghìn không trăm hai mươi tư."),
    ("(Điều 15 Luật Tiếp công dân năm 2013)",
     "(Điều mười lăm Luật Tiếp công dân năm hai ngàn không trăm mười ba)",
     "(Điều mười lăm Luật Tiếp công dân năm hai nghìn không trăm mười ba)"),
    ("6. Đề nghị UBMTTQVN xã, các tổ chức chính trị xã hội và 09 ấp",
     "sáu. Đề nghị Ủy ban Mặt trận Tổ quốc Việt Nam xã, các tổ chức chính trị xã hội và chín ấp", None),
    ("báo cáo UBND xã (qua VP HĐND- UBND xã)",
     "báo cáo Ủy ban nhân dân xã (qua Văn phòng Hội đồng nhân dân- Ủy ban nhân dân xã)", None),
    ("- Công an xã, VHTT xã;", "- Công an xã, Văn hóa Thông tin xã;", None),
    ("- Lưu: VT.", "- Lưu: Văn thư.", None),
    ("TM. ỦY BAN NHÂN DÂN\nKT.CHỦ TỊCH", "Thay mặt ỦY BAN NHÂN DÂN\nKý thay CHỦ TỊCH", None),
    ("Cổng TTĐT xã", "Cổng Thông tin điện tử xã", None),
    ("của UBND TP. Long Xuyên", "của Ủy ban nhân dân thành phố Long Xuyên", None),
    # --- text that must come through untouched ---
    ("Trung tâm Văn hóa - Học tập cộng đồng xã", "Trung tâm Văn hóa - Học tập cộng đồng xã", None),
    ("Ca sĩ hát một ca khúc.", "Ca sĩ hát một ca khúc.", None),
    ("Nghỉ Tết, chúc bà con vui khỏe!", "Nghỉ Tết, chúc bà con vui khỏe!", None),
]


def _rows():
    for text, south, north in CASES:
        yield pytest.param(text, "south", south, id=f"south:{text[:40]}")
        yield pytest.param(text, "north", south if north is None else north, id=f"north:{text[:40]}")


def test_table_is_large_enough():
    assert len(CASES) >= 90
    assert sum(1 for _, _, north in CASES if north is not None) >= 25


@pytest.mark.parametrize(("text", "dialect", "spoken"), list(_rows()))
def test_case(text, dialect, spoken):
    assert normalize(text, dialect) == spoken
