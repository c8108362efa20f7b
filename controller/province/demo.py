"""`commune-radio demo --province`: a mock province on loopback, and the link turned on to it."""

from __future__ import annotations

import dataclasses
import secrets

from controller.province.mapping import FILE_NAME
from controller.province.mock import PASSWORD, USERNAME, MockProvinceServer


class DemoProvince:
    """The running mock and what the demo prints about it."""

    def __init__(self, server: MockProvinceServer, token: str):
        self.server = server
        self.token = token

    def hint(self, web_port: int) -> str:
        """How to watch the link and push a bulletin down, for the demo's banner."""
        return (f"  Mock province: {self.server.url} (what it received: {self.server.url}"
                f"/api/v1/nhan-duoc; the link's state: page Kết nối tỉnh)\n"
                f"  Push a bulletin down: curl -H 'Authorization: Bearer {self.token}' -H "
                f"'Content-Type: application/json' -d '{{\"BanTinId\": \"T-1\", \"TieuDe\": \"Thử\", "
                f"\"MucDoUuTien\": 3, \"LichPhat\": {{\"ThoiDiemBatDau\": [\"<ISO time +07:00>\"]}}, "
                f"\"NoiDung\": {{\"VanBan\": \"Thông báo thử\"}}, \"DanhSachDiaBanNhan\": [\"AP-1\"]}}' "
                f"http://127.0.0.1:{web_port}/province/v1/ban-tin\n")

    def stop(self) -> None:
        """Stop the mock."""
        self.server.stop()


def link_settings(settings, n: int):
    """Start the mock, write a mapping for the demo's hamlets, and return settings with the link on."""
    server = MockProvinceServer().start()
    token = secrets.token_urlsafe(24)
    data = settings.data_dir
    data.mkdir(parents=True, exist_ok=True)
    areas = "\n".join(f'"AP-{i}" = "Ấp {i}"' for i in range(1, n + 1))
    speakers = "\n".join(f'"ap-{i}" = "CL-{i:04d}"' for i in range(1, n + 1))
    (data / FILE_NAME).write_text(f"[ids]\nsource_id = \"NGUON-XA-DEMO\"\n\n[ids.speakers]\n{speakers}\n\n"
                                  f"[ids.areas]\n{areas}\n", encoding="utf-8")
    province = {"enabled": True, "base_url": server.url, "username": USERNAME, "password": PASSWORD,
                "inbound_token": token, "heartbeat_s": 60}
    return DemoProvince(server, token), dataclasses.replace(settings, province=province)
