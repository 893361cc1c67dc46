"""Fixtures the dock tests share."""

from __future__ import annotations

import pytest


@pytest.fixture
def transfer_dock(make_napari_viewer, qtbot):
    """A viewer with the Domain transfer dock docked: ``(viewer, widget)``; a running transfer is
    cancelled and waited for at the end."""
    from napari_cinn.widgets.transfer import TransferWidget

    viewer = make_napari_viewer()
    widget = TransferWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Domain transfer")
    yield viewer, widget
    widget.cancel()
    if widget.worker is not None:
        qtbot.waitUntil(lambda: widget.worker is None, timeout=20000)
