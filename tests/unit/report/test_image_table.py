"""Registry and image tables: short digests, severity counts, hostile server text escaped with or without colour."""

from __future__ import annotations

import pytest

from rampart.client.models import RegistryScan, RepositoryScan
from rampart.report.image_table import (
    open_text,
    render_image,
    render_image_findings,
    render_images,
    render_registries,
    render_registry_scan,
    short_digest,
)
from unit.client.samples import (
    NOW,
    sample_image_findings,
    sample_image_packages,
    sample_images,
    sample_registries,
    scan_json,
)


@pytest.mark.parametrize(
    ("digest", "short"),
    [
        ("sha256:" + "ab" * 32, "abababababab"),
        ("sha512:0123", "0123"),
        ("", ""),
        ("deadbeefcafe00", "deadbeefcafe"),
    ],
)
def test_short_digest(digest: str, short: str) -> None:
    assert short_digest(digest) == short


def test_open_counts_worst_first() -> None:
    assert open_text({"LOW": 3, "CRITICAL": 1, "HIGH": 0}).plain == "1 CRITICAL, 3 LOW"
    assert open_text({}).plain == "none"


@pytest.mark.parametrize("color", [False, True])
def test_hostile_text_never_reaches_the_terminal(color: bool) -> None:
    images = sample_images()
    scan = RegistryScan((RepositoryScan.from_json(scan_json(errors=["bad\x1b]0;x\x07", "\u202eevil"])),))
    texts = [
        render_registries(sample_registries(), NOW, width=200, color=color),
        render_registry_scan(scan, width=200, color=color),
        render_images(images, NOW, width=200, color=color),
        render_image(images[1], sample_image_packages(), NOW, width=200, color=color),
        render_image_findings(sample_image_findings(), width=200, color=color),
    ]
    for text in texts:
        assert "\x07" not in text and "\u202e" not in text and "\x1b[2J" not in text and "\x1b]" not in text
    assert ("\x1b[" in texts[2]) is color  # colour codes only when asked


def test_image_detail_lists_notes_and_error() -> None:
    from dataclasses import replace

    image = replace(sample_images()[1], notes=("layer 3 skipped: too large",))
    text = render_image(image, [], NOW, width=120)
    assert "note" in text and "layer 3 skipped: too large" in text
    assert "manifest unknown\\x1b]0;pwned\\x07" in text and "0 packages" in text
