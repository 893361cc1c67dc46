"""Viewer hooks of the docks: a click callback that ignores drags, and clean-up when a dock closes."""

from __future__ import annotations

import contextlib
import weakref


def disconnect_on_destroy(
    widget, viewer, connections, drag_callbacks=(), move_callbacks=()
) -> None:
    """When ``widget`` is destroyed, disconnect ``connections`` (``(emitter, callback)`` pairs) and
    remove the viewer mouse callbacks, so a closed dock leaves nothing behind in the viewer."""

    def cleanup(*_):
        for emitter, callback in connections:
            with contextlib.suppress(RuntimeError, ValueError, TypeError):
                emitter.disconnect(callback)
        for callbacks, lst in (
            (drag_callbacks, viewer.mouse_drag_callbacks),
            (move_callbacks, viewer.mouse_move_callbacks),
        ):
            for cb in callbacks:
                if cb in lst:
                    lst.remove(cb)

    widget.destroyed.connect(cleanup)


def connect_viewer(
    widget, viewer, on_layers, *, changed: bool = False, drag=(), move=(), extra=()
) -> None:
    """Call ``on_layers`` when layers are inserted, removed or reordered (and ``changed``: when
    the list is replaced); connect the ``extra`` ``(emitter, callback)`` pairs; add the viewer
    mouse callbacks ``drag``/``move``; undo all of it when ``widget`` is destroyed."""
    ev = viewer.layers.events
    kinds = (ev.inserted, ev.removed, ev.reordered) + ((ev.changed,) if changed else ())
    connections = [(e, on_layers) for e in kinds] + list(extra)
    for emitter, cb in connections:
        emitter.connect(cb)
    viewer.mouse_drag_callbacks.extend(drag)
    viewer.mouse_move_callbacks.extend(move)
    disconnect_on_destroy(widget, viewer, connections, drag, move)


def click_callback(widget, method: str):
    """A viewer ``mouse_drag_callbacks`` entry calling ``widget.<method>(world_position)`` on a click.

    A press and release without moving is a click; drags (panning) are left alone. The widget is
    held weakly, so the callback never keeps a closed dock alive.
    """
    ref = weakref.ref(widget)

    def on_drag(viewer, event):
        if getattr(event, "button", 1) != 1:
            return
        press = tuple(event.position)
        moved = False
        yield
        while event.type == "mouse_move":
            moved = True
            yield
        w = ref()
        if w is not None and not moved:
            getattr(w, method)(press)

    return on_drag
