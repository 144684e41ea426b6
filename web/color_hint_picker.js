// Colour-hint picker for the EEI "ColorHint" node.
//
// The node's image (the image of its last run, or the image of a directly connected Load Image node before one) is
// drawn inside the node. Click to add a point (its colour is the image colour under the cursor), drag a point to
// move it, click a point to change its colour, right-click or shift-click a point to delete it, "Clear" removes all.
// The points live in the node's `points` STRING widget as JSON ([{"x":0..1,"y":0..1,"color":"#rrggbb"}, ...]), so
// they are saved with the workflow and sent with the prompt like any widget value; editing the JSON by hand updates
// the picture.
//
// It works the same with either node renderer of the frontend (classic canvas, or "Nodes 2.0", the setting
// Comfy.VueNodes.Enabled): it draws only into its own DOM widget, takes the run's image from onExecuted and a Load
// Image's picture from app.nodeOutputs (Nodes 2.0 sets no `imgs` on nodes), and watches the widget and the upstream
// picture with a timer instead of the canvas's onDrawForeground (which Nodes 2.0 does not call).

import { api } from "../../scripts/api.js";
import { app } from "../../scripts/app.js";

const NODE_TYPE = "ColorHint";
const POINTS_WIDGET = "points";
const RADIUS_WIDGET = "radius";
const PICKER_WIDGET = "eei_hint_picker";
// The node's ui output holding its image (nodes/color_hint.py, PICKER_IMAGES): not "images", so that neither renderer
// adds its own preview of the image below the picker, which shows it.
const PICKER_IMAGES = "eei_picker_images";
const WATCH_MS = 200; // how often the picker looks for a changed points text or upstream picture
const TOOLBAR_HEIGHT = 28;
const MIN_CANVAS_HEIGHT = 120;
const POINTS_MAX_HEIGHT = 64;
const HIT_RADIUS_PX = 9; // screen pixels around a point that grab it
const DRAG_THRESHOLD_PX = 3; // a press that moves less than this is a click

function clamp01(v) {
    return Math.min(1, Math.max(0, v));
}

function round4(v) {
    return Math.round(v * 10000) / 10000;
}

function toHex(r, g, b) {
    return "#" + [r, g, b].map((c) => Math.round(c).toString(16).padStart(2, "0")).join("");
}

/** A point's colour as a CSS colour; the backend accepts more spellings than the picker writes. */
function cssColor(color) {
    if (typeof color === "string") return color;
    if (Array.isArray(color) && color.length === 3) {
        const scale = color.every((c) => c <= 1) && color.some((c) => !Number.isInteger(c)) ? 255 : 1;
        return toHex(...color.map((c) => c * scale));
    }
    return "#000000";
}

/** A colour as "#rrggbb" for <input type=color>, via the canvas's own colour parser. */
function hexOf(color) {
    const ctx = document.createElement("canvas").getContext("2d");
    ctx.fillStyle = "#000000";
    ctx.fillStyle = cssColor(color);
    const v = ctx.fillStyle;
    if (v.startsWith("#")) return v;
    const m = v.match(/\d+(\.\d+)?/g);
    return m ? toHex(+m[0], +m[1], +m[2]) : "#000000";
}

/** Points from the widget's JSON; null when the text is not a list of points (then the picture shows an error). */
function parsePoints(text) {
    if (!text || !text.trim()) return [];
    let data;
    try {
        data = JSON.parse(text);
    } catch {
        return null;
    }
    if (data && !Array.isArray(data) && Array.isArray(data.points)) data = data.points;
    if (!Array.isArray(data)) return null;
    const ok = data.every(
        (p) => p && typeof p === "object" && Number.isFinite(p.x) && Number.isFinite(p.y) && p.color !== undefined,
    );
    return ok ? data : null;
}

/** The /view URL of an image a node output lists ({filename, subfolder, type}). */
function viewURL(image) {
    const params = new URLSearchParams({
        filename: image.filename ?? "", subfolder: image.subfolder ?? "", type: image.type ?? "output",
    });
    return api.apiURL(`/view?${params}`);
}

/** An <img> of `url`, made once per URL (the picker asks for the same picture on every look). */
const imageCache = new Map();
function imageOf(url) {
    let img = imageCache.get(url);
    if (!img) {
        img = new Image();
        img.src = url;
        imageCache.set(url, img);
        if (imageCache.size > 32) imageCache.delete(imageCache.keys().next().value);
    }
    return img;
}

function serializePoints(points) {
    return JSON.stringify(points.map((p) => ({ ...p, x: round4(p.x), y: round4(p.y) })));
}

class HintPicker {
    constructor(node) {
        this.node = node;
        this.points = [];
        this.selected = -1;
        this.lastText = null;
        this.runImage = null; // the node's image from its last run
        this.image = null; // what is shown (see refreshSource)
        this.lastColor = "#808080"; // colour for points placed in the hole, where the picture has none
        this.pixels = null; // canvas holding this.image at full size, for colour sampling
        this.drag = null;

        this.root = document.createElement("div");
        this.root.className = "eei-hint-picker";
        Object.assign(this.root.style, {
            display: "flex", flexDirection: "column", width: "100%", height: "100%", boxSizing: "border-box",
            gap: "4px", fontSize: "12px", color: "var(--input-text, #ddd)",
            // The node sets the width, never the picker's content (Nodes 2.0 sizes a node to its widgets' content:
            // the status line would otherwise widen the node past its frame).
            minWidth: "0", overflow: "hidden", contain: "inline-size",
        });

        this.canvas = document.createElement("canvas");
        this.canvas.className = "eei-hint-canvas";
        Object.assign(this.canvas.style, {
            flex: "1 1 auto", minHeight: "0", width: "100%", cursor: "crosshair", borderRadius: "4px",
            background: "rgba(0,0,0,0.25)", touchAction: "none",
        });
        this.canvas.title = "Click: add a point (colour under the cursor). Drag: move. Click a point: change its "
            + "colour. Right-click or shift-click a point: delete.";

        const bar = document.createElement("div");
        Object.assign(bar.style, {
            display: "flex", alignItems: "center", gap: "6px", height: `${TOOLBAR_HEIGHT - 4}px`, flex: "0 0 auto",
        });
        this.colorInput = document.createElement("input");
        this.colorInput.type = "color";
        this.colorInput.className = "eei-hint-color";
        this.colorInput.title = "Colour of the selected point";
        this.colorInput.disabled = true;
        Object.assign(this.colorInput.style, { width: "32px", height: "20px", padding: "0", border: "none" });
        this.colorInput.addEventListener("input", () => this.setSelectedColor(this.colorInput.value));

        this.clearButton = document.createElement("button");
        this.clearButton.className = "eei-hint-clear";
        this.clearButton.textContent = "Clear";
        this.clearButton.title = "Remove all points";
        Object.assign(this.clearButton.style, {
            fontSize: "12px", padding: "1px 8px", cursor: "pointer", borderRadius: "4px",
            background: "var(--comfy-input-bg, #222)", color: "inherit", border: "1px solid var(--border-color, #555)",
        });
        this.clearButton.addEventListener("click", () => {
            this.points = [];
            this.selected = -1;
            this.commit();
        });

        this.status = document.createElement("span");
        this.status.className = "eei-hint-status";
        Object.assign(this.status.style, {
            opacity: "0.8", overflow: "hidden", whiteSpace: "nowrap", textOverflow: "ellipsis", minWidth: "0",
        });

        bar.append(this.colorInput, this.clearButton, this.status);
        this.root.append(this.canvas, bar);

        this.canvas.addEventListener("pointerdown", (e) => this.onPointerDown(e));
        this.canvas.addEventListener("pointermove", (e) => this.onPointerMove(e));
        this.canvas.addEventListener("pointerup", (e) => this.onPointerUp(e));
        this.canvas.addEventListener("pointercancel", () => (this.drag = null));
        this.canvas.addEventListener("contextmenu", (e) => this.onContextMenu(e));
        // Zooming the graph must keep working over the picture: hand the wheel to the graph canvas.
        this.root.addEventListener("wheel", (e) => {
            const target = app.canvas?.canvas;
            if (!target) return;
            e.preventDefault();
            target.dispatchEvent(new WheelEvent("wheel", e));
        }, { passive: false });
        new ResizeObserver(() => this.draw()).observe(this.canvas);
    }

    // ----- state <-> widget ---------------------------------------------------------------------------------------
    widget(name) {
        return this.node.widgets?.find((w) => w.name === name);
    }

    /** Re-reads the JSON if it changed (typed by hand, undo, workflow loaded); returns true if it did. */
    syncFromWidget() {
        const text = String(this.widget(POINTS_WIDGET)?.value ?? "");
        if (text === this.lastText) return false;
        this.lastText = text;
        const parsed = parsePoints(text);
        this.invalid = parsed === null;
        if (!this.invalid) {
            this.points = parsed.map((p) => ({ ...p }));
            if (this.selected >= this.points.length) this.selected = -1;
        }
        this.updateToolbar();
        return true;
    }

    /** Writes the points to the widget, so they are saved and queued with the graph. */
    commit() {
        const widget = this.widget(POINTS_WIDGET);
        const text = serializePoints(this.points);
        this.lastText = text;
        this.invalid = false;
        if (widget) {
            widget.value = text;
            widget.callback?.(text, app.canvas, this.node);
        }
        this.node.setDirtyCanvas?.(true, true);
        app.extensionManager?.workflow?.activeWorkflow?.changeTracker?.checkState?.();
        this.updateToolbar();
        this.draw();
    }

    // ----- image ----------------------------------------------------------------------------------------------------
    /**
     * The picture of a Load Image-like node wired straight into `image`, if it shows one: its `imgs` (classic
     * renderer) or, else, the first image of its output (app.nodeOutputs, which both renderers keep).
     */
    upstreamImage() {
        const slot = this.node.inputs?.findIndex((i) => i.name === "image");
        if (slot === undefined || slot < 0) return null;
        const origin = this.node.getInputNode?.(slot);
        if (!origin) return null;
        let img = origin.imgs?.length ? origin.imgs[origin.imageIndex ?? 0] ?? origin.imgs[0] : null;
        if (!img) {
            const shown = app.nodeOutputs?.[String(origin.id)]?.images?.[0];
            if (shown?.filename) img = imageOf(viewURL(shown));
        }
        return img?.complete && img.naturalWidth ? img : null;
    }

    /** The node's output after a run (onExecuted): its image, listed under PICKER_IMAGES. */
    setRunOutput(output) {
        const shown = output?.[PICKER_IMAGES]?.[0];
        if (!shown?.filename) return;
        const img = new Image();
        img.addEventListener("load", () => {
            this.runImage = img;
            this.refreshSource();
        }, { once: true });
        img.src = viewURL(shown);
    }

    /** Looks for a changed points text or upstream picture every WATCH_MS while the node is in a graph. */
    watch() {
        this.unwatch();
        this.timer = setInterval(() => {
            if (!this.node.graph) return;
            this.limitPointsBox();
            this.refreshSource();
            if (this.syncFromWidget()) this.draw();
        }, WATCH_MS);
    }

    /**
     * Nodes 2.0 shares the node's height between the JSON box and the picture alike (options.getMaxHeight is for the
     * classic canvas only); keep the box at POINTS_MAX_HEIGHT there too and let the picture take the rest.
     */
    limitPointsBox() {
        const box = this.root.closest(".lg-node")?.querySelector("textarea");
        if (!box || box.dataset.eeiLimited) return;
        box.dataset.eeiLimited = "1";
        box.style.maxHeight = `${POINTS_MAX_HEIGHT}px`;
        const row = box.closest(".lg-node-widget");
        if (row) row.style.flex = "0 0 auto";
        const own = this.root.closest(".lg-node-widget");
        if (own) own.style.flex = "1 1 auto";
    }

    unwatch() {
        if (this.timer) clearInterval(this.timer);
        this.timer = null;
    }

    /**
     * Shows the connected Load Image's picture when there is one (it shows the hole: transparent where the mask
     * editor painted), else the image of the last run. Called by the watch timer and after a run.
     */
    refreshSource() {
        const img = this.upstreamImage() ?? this.runImage;
        if (img && img !== this.image) this.setImage(img);
    }

    setImage(img) {
        this.image = img;
        const ready = () => {
            if (this.image !== img) return;
            this.pixels = document.createElement("canvas");
            this.pixels.width = img.naturalWidth;
            this.pixels.height = img.naturalHeight;
            this.pixels.getContext("2d", { willReadFrequently: true }).drawImage(img, 0, 0);
            this.fitNode();
            this.updateToolbar();
            this.draw();
        };
        if (img.complete && img.naturalWidth) ready();
        else img.addEventListener("load", ready, { once: true });
    }

    /** Grows the node so the picture is shown at the node's width (never shrinks what the user sized). */
    fitNode() {
        const node = this.node;
        if (!this.image || !node.size) return;
        const aspect = this.image.naturalHeight / this.image.naturalWidth;
        const wanted = Math.min(512, Math.max(MIN_CANVAS_HEIGHT, (node.size[0] - 20) * aspect)) + TOOLBAR_HEIGHT;
        if (wanted === this.wantedHeight) return;
        this.wantedHeight = wanted;
        const shown = this.widget(PICKER_WIDGET)?.computedHeight ?? MIN_CANVAS_HEIGHT + TOOLBAR_HEIGHT;
        if (wanted > shown) node.setSize([node.size[0], node.size[1] + wanted - shown]);
        node.setDirtyCanvas?.(true, true);
    }

    // ----- geometry -------------------------------------------------------------------------------------------------
    /** Where the picture lies on the canvas element, in CSS pixels (letter-boxed, aspect kept). */
    imageRect() {
        const w = this.canvas.clientWidth;
        const h = this.canvas.clientHeight;
        if (!this.image?.naturalWidth || !w || !h) return null;
        const iw = this.image.naturalWidth;
        const ih = this.image.naturalHeight;
        const scale = Math.min(w / iw, h / ih);
        const dw = iw * scale;
        const dh = ih * scale;
        return { x: (w - dw) / 2, y: (h - dh) / 2, w: dw, h: dh, scale };
    }

    /** Event position in element CSS pixels; the graph's zoom scales the element, so undo it. */
    eventPos(e) {
        const r = this.canvas.getBoundingClientRect();
        const sx = r.width / (this.canvas.clientWidth || r.width || 1);
        const sy = r.height / (this.canvas.clientHeight || r.height || 1);
        return { x: (e.clientX - r.left) / sx, y: (e.clientY - r.top) / sy, zoom: sx };
    }

    hitTest(pos) {
        const rect = this.imageRect();
        if (!rect) return -1;
        let best = -1;
        let bestDist = Infinity;
        this.points.forEach((p, i) => {
            const d = Math.hypot(rect.x + p.x * rect.w - pos.x, rect.y + p.y * rect.h - pos.y);
            const reach = Math.max(HIT_RADIUS_PX / pos.zoom, this.displayRadius(p, rect));
            if (d <= reach && d < bestDist) {
                best = i;
                bestDist = d;
            }
        });
        return best;
    }

    displayRadius(p, rect) {
        const r = Number.isFinite(p.radius) ? p.radius : Number(this.widget(RADIUS_WIDGET)?.value ?? 3);
        return Math.max(4, r * rect.scale);
    }

    sampleColor(fx, fy) {
        if (!this.pixels) return "#808080";
        const px = Math.min(this.pixels.width - 1, Math.floor(fx * this.pixels.width));
        const py = Math.min(this.pixels.height - 1, Math.floor(fy * this.pixels.height));
        const d = this.pixels.getContext("2d", { willReadFrequently: true }).getImageData(px, py, 1, 1).data;
        // In the hole (transparent) there is no colour to take: reuse the last one chosen.
        return d[3] < 128 ? this.lastColor : toHex(d[0], d[1], d[2]);
    }

    // ----- interaction ---------------------------------------------------------------------------------------------
    onPointerDown(e) {
        // The graph must not see this press (it would drag or select the node instead).
        e.stopPropagation();
        if (e.button !== 0) return;
        e.preventDefault();
        this.syncFromWidget();
        const pos = this.eventPos(e);
        const hit = this.hitTest(pos);
        if (e.shiftKey) {
            if (hit >= 0) this.removePoint(hit);
            return;
        }
        const rect = this.imageRect();
        if (hit < 0) {
            if (!rect || this.invalid) return;
            const fx = (pos.x - rect.x) / rect.w;
            const fy = (pos.y - rect.y) / rect.h;
            if (fx < 0 || fx > 1 || fy < 0 || fy > 1) return;
            this.points.push({ x: fx, y: fy, color: this.sampleColor(fx, fy) });
            this.selected = this.points.length - 1;
            this.drag = { index: this.selected, start: pos, moved: false, added: true };
            this.commit();
        } else {
            this.selected = hit;
            this.drag = { index: hit, start: pos, moved: false, added: false };
            this.updateToolbar();
            this.draw();
        }
        this.canvas.setPointerCapture?.(e.pointerId);
    }

    onPointerMove(e) {
        if (!this.drag) return;
        e.stopPropagation();
        const pos = this.eventPos(e);
        const rect = this.imageRect();
        if (!rect) return;
        if (!this.drag.moved && Math.hypot(pos.x - this.drag.start.x, pos.y - this.drag.start.y) < DRAG_THRESHOLD_PX) {
            return;
        }
        this.drag.moved = true;
        const p = this.points[this.drag.index];
        p.x = clamp01((pos.x - rect.x) / rect.w);
        p.y = clamp01((pos.y - rect.y) / rect.h);
        this.draw();
    }

    onPointerUp(e) {
        const drag = this.drag;
        this.drag = null;
        if (!drag) return;
        this.canvas.releasePointerCapture?.(e.pointerId);
        if (drag.moved) {
            this.commit();
        } else if (!drag.added) {
            // A plain click on an existing point: choose its colour.
            this.colorInput.value = hexOf(this.points[drag.index].color);
            this.colorInput.click();
        }
    }

    onContextMenu(e) {
        e.preventDefault();
        e.stopPropagation();
        this.syncFromWidget();
        const hit = this.hitTest(this.eventPos(e));
        if (hit >= 0) this.removePoint(hit);
    }

    removePoint(index) {
        this.points.splice(index, 1);
        if (this.selected === index) this.selected = -1;
        else if (this.selected > index) this.selected -= 1;
        this.commit();
    }

    setSelectedColor(hex) {
        const p = this.points[this.selected];
        if (!p) return;
        p.color = hex;
        this.lastColor = hex;
        this.commit();
    }

    updateToolbar() {
        const p = this.points[this.selected];
        this.colorInput.disabled = !p;
        this.colorInput.style.opacity = p ? "1" : "0.3";
        if (p) this.colorInput.value = hexOf(p.color);
        const n = this.points.length;
        if (this.invalid) this.status.textContent = "points: invalid JSON";
        else if (!this.image) this.status.textContent = "Run the node (or load an image) to place points";
        else this.status.textContent = `${n} point${n === 1 ? "" : "s"}`;
    }

    // ----- drawing --------------------------------------------------------------------------------------------------
    draw() {
        const canvas = this.canvas;
        const w = canvas.clientWidth;
        const h = canvas.clientHeight;
        if (!w || !h) return;
        const dpr = window.devicePixelRatio || 1;
        if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
            canvas.width = Math.round(w * dpr);
            canvas.height = Math.round(h * dpr);
        }
        const ctx = canvas.getContext("2d");
        ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
        ctx.clearRect(0, 0, w, h);
        const rect = this.imageRect();
        if (!rect) {
            ctx.fillStyle = "rgba(255,255,255,0.6)";
            ctx.font = "12px sans-serif";
            ctx.textAlign = "center";
            ctx.fillText("Run the node to show its image here", w / 2, h / 2);
            return;
        }
        // A checkerboard under the picture makes the hole (transparent pixels) visible.
        const cell = 8;
        ctx.save();
        ctx.beginPath();
        ctx.rect(rect.x, rect.y, rect.w, rect.h);
        ctx.clip();
        ctx.fillStyle = "#bbb";
        ctx.fillRect(rect.x, rect.y, rect.w, rect.h);
        ctx.fillStyle = "#777";
        for (let y = 0; y * cell < rect.h; y++) {
            for (let x = (y % 2); x * cell < rect.w; x += 2) {
                ctx.fillRect(rect.x + x * cell, rect.y + y * cell, cell, cell);
            }
        }
        ctx.restore();
        ctx.imageSmoothingEnabled = rect.scale < 1;
        ctx.drawImage(this.image, rect.x, rect.y, rect.w, rect.h);
        this.points.forEach((p, i) => {
            const cx = rect.x + p.x * rect.w;
            const cy = rect.y + p.y * rect.h;
            const r = this.displayRadius(p, rect);
            ctx.beginPath();
            ctx.arc(cx, cy, r, 0, Math.PI * 2);
            ctx.fillStyle = cssColor(p.color);
            ctx.fill();
            ctx.lineWidth = 2;
            ctx.strokeStyle = "#000";
            ctx.stroke();
            ctx.beginPath();
            ctx.arc(cx, cy, r + 2, 0, Math.PI * 2);
            ctx.lineWidth = i === this.selected ? 2.5 : 1.25;
            ctx.strokeStyle = i === this.selected ? "#ffd000" : "#fff";
            ctx.stroke();
        });
    }
}

app.registerExtension({
    name: "EEI.ColorHintPicker",

    async beforeRegisterNodeDef(nodeType, nodeData) {
        if (nodeData?.name !== NODE_TYPE) return;

        const onNodeCreated = nodeType.prototype.onNodeCreated;
        nodeType.prototype.onNodeCreated = function () {
            const result = onNodeCreated?.apply(this, arguments);
            const picker = new HintPicker(this);
            this.eeiHintPicker = picker;
            const widget = this.addDOMWidget(PICKER_WIDGET, "eei_hint_picker", picker.root, {
                serialize: false,
                hideOnZoom: false,
                getMinHeight: () => MIN_CANVAS_HEIGHT + TOOLBAR_HEIGHT,
                getHeight: () => picker.wantedHeight ?? MIN_CANVAS_HEIGHT + TOOLBAR_HEIGHT,
            });
            widget.serialize = false;

            const points = this.widgets?.find((w) => w.name === POINTS_WIDGET);
            if (points?.options) {
                // The JSON box stays small (it scrolls); the node's space goes to the picture.
                points.options.getMaxHeight = () => POINTS_MAX_HEIGHT;
            }
            if (points) {
                const callback = points.callback;
                points.callback = function () {
                    const r = callback?.apply(this, arguments);
                    if (picker.syncFromWidget()) picker.draw();
                    return r;
                };
            }
            picker.syncFromWidget();
            picker.updateToolbar();
            if (this.size) this.setSize([Math.max(this.size[0], 300), this.computeSize()[1]]);
            return result;
        };

        const onExecuted = nodeType.prototype.onExecuted;
        nodeType.prototype.onExecuted = function (output) {
            const r = onExecuted?.apply(this, arguments);
            this.eeiHintPicker?.setRunOutput(output);
            return r;
        };

        const onAdded = nodeType.prototype.onAdded;
        nodeType.prototype.onAdded = function () {
            const r = onAdded?.apply(this, arguments);
            this.eeiHintPicker?.watch();
            return r;
        };

        const onRemoved = nodeType.prototype.onRemoved;
        nodeType.prototype.onRemoved = function () {
            const r = onRemoved?.apply(this, arguments);
            this.eeiHintPicker?.unwatch();
            return r;
        };

        const onConfigure = nodeType.prototype.onConfigure;
        nodeType.prototype.onConfigure = function () {
            const r = onConfigure?.apply(this, arguments);
            this.eeiHintPicker?.syncFromWidget();
            this.eeiHintPicker?.draw();
            return r;
        };
    },
});
