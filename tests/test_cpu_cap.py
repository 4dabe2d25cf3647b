"""``ONEDNN_MAX_CPU_ISA`` caps what the run believes the CPU has: an AVX2-capped run picks the
precision an AVX2-only CPU would, and records the ISA it was allowed."""

from __future__ import annotations

import builtins
import io
from typing import Any

import pytest

from ids_extract.models import runtime

CPUINFO = ("processor\t: 0\nflags\t\t: fpu sse avx2 avx_vnni avx512f avx512_vnni avx512_bf16 "
           "amx_bf16 amx_int8 amx_tile\n")


@pytest.fixture
def bf16_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = builtins.open

    def fake_open(path: Any, *args: Any, **kwargs: Any) -> Any:
        return io.StringIO(CPUINFO) if path == "/proc/cpuinfo" else real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)


def test_uncapped_cpu_keeps_its_flags(bf16_cpu: None) -> None:
    assert runtime.cpu_has_native_bf16()
    assert runtime.pick_precision("auto", "cpu") == "bf16"
    assert "amx_int8" in runtime.speed_flags()


@pytest.mark.parametrize("cap, vnni", [("AVX2", False), ("avx2", False), ("AVX2_VNNI", True)])
def test_avx2_cap_is_an_avx2_cpu(bf16_cpu: None, monkeypatch: pytest.MonkeyPatch, cap: str,
                                 vnni: bool) -> None:
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", cap)
    assert not runtime.cpu_has_native_bf16()
    assert runtime.pick_precision("auto", "cpu") == "fp32"
    assert runtime.speed_flags() == (["avx2", "avx_vnni"] if vnni else ["avx2"])


def test_a_cap_above_avx2_changes_nothing(bf16_cpu: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_AMX")
    assert runtime.cpu_has_native_bf16()
