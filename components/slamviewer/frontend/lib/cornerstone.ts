// Cornerstone3D set-up: one rendering engine, the "slam:" image loader, a metadata provider, one tool group.

import {
	init as csInit,
	RenderingEngine,
	Enums,
	imageLoader,
	metaData,
	utilities,
	cache,
	setUseCPURendering
} from "@cornerstonejs/core";
import {
	init as toolsInit,
	addTool,
	ToolGroupManager,
	StackScrollTool,
	WindowLevelTool,
	PanTool,
	ZoomTool,
	LengthTool,
	ProbeTool,
	Enums as ToolEnums
} from "@cornerstonejs/tools";
import { fetchUint16 } from "./pixels";
import { metrics } from "./metrics";

export const ENGINE_ID = "slamviewer-engine";
export const TOOL_GROUP_ID = "slamviewer-tools";
export type LeftTool = "wl" | "length" | "probe";

/** What the loader and the metadata provider need to know of each image id (set before the id is used). */
export interface ImageInfo {
	url: string;
	rows: number;
	columns: number;
	rowSpacing: number; // mm (1 when the file gives none: then ``calibrated`` is false and lengths are in pixels)
	columnSpacing: number; // mm
	calibrated: boolean; // the file gives a pixel spacing
	center: number;
	width: number;
	invert: boolean;
	frameOfReference: string;
}

const infos = new Map<string, ImageInfo>();
let ready: Promise<void> | null = null;
let engine: RenderingEngine | null = null;

export function registerImage(imageId: string, info: ImageInfo): void {
	infos.set(imageId, info);
}

function provider(type: string, imageId: string): unknown {
	const info = infos.get(imageId);
	if (!info) return undefined;
	switch (type) {
		case "imagePlaneModule":
			return {
				frameOfReferenceUID: info.frameOfReference,
				rows: info.rows,
				columns: info.columns,
				imageOrientationPatient: [1, 0, 0, 0, 1, 0],
				rowCosines: [1, 0, 0],
				columnCosines: [0, 1, 0],
				imagePositionPatient: [0, 0, 0],
				// without a spacing none is given: Cornerstone then takes 1 and its tools measure in "px"
				...(info.calibrated ? {
					pixelSpacing: [info.rowSpacing, info.columnSpacing],
					rowPixelSpacing: info.rowSpacing,
					columnPixelSpacing: info.columnSpacing
				} : {}),
				sliceThickness: 1,
				sliceLocation: 0
			};
		case "imagePixelModule":
			return {
				samplesPerPixel: 1,
				photometricInterpretation: info.invert ? "MONOCHROME1" : "MONOCHROME2",
				rows: info.rows,
				columns: info.columns,
				bitsAllocated: 16,
				bitsStored: 16,
				highBit: 15,
				pixelRepresentation: 0
			};
		case "generalSeriesModule":
			return { modality: "MG" };
		case "modalityLutModule":
			return { rescaleSlope: 1, rescaleIntercept: 0 };
		case "voiLutModule":
			return { windowCenter: [info.center], windowWidth: [info.width] };
		default:
			return undefined;
	}
}

function loadSlamImage(imageId: string): { promise: Promise<any> } {
	const info = infos.get(imageId);
	if (!info) return { promise: Promise.reject(new Error(`unknown image ${imageId}`)) };
	const promise = fetchUint16(info.url, info.rows, info.columns).then((scalarData) => {
		let min = 65535;
		let max = 0;
		for (let i = 0; i < scalarData.length; i++) {
			const v = scalarData[i];
			if (v < min) min = v;
			if (v > max) max = v;
		}
		const voxelManager = utilities.VoxelManager.createImageVoxelManager({
			width: info.columns,
			height: info.rows,
			numberOfComponents: 1,
			scalarData,
			id: imageId
		} as any);
		return {
			imageId,
			minPixelValue: min,
			maxPixelValue: max,
			slope: 1,
			intercept: 0,
			windowCenter: info.center,
			windowWidth: info.width,
			voiLUTFunction: "LINEAR",
			getPixelData: () => scalarData,
			getCanvas: undefined,
			rows: info.rows,
			columns: info.columns,
			height: info.rows,
			width: info.columns,
			color: false,
			rgba: false,
			numberOfComponents: 1,
			columnPixelSpacing: info.columnSpacing,
			rowPixelSpacing: info.rowSpacing,
			invert: info.invert,
			photometricInterpretation: info.invert ? "MONOCHROME1" : "MONOCHROME2",
			sizeInBytes: scalarData.byteLength,
			dataType: "Uint16Array",
			voxelManager,
			FrameOfReferenceUID: info.frameOfReference
		};
	});
	return { promise };
}

/** The probe's label: the stored value under its point and the position in mm from the image's top-left corner
 * (in display-stack pixels when the file gives no spacing).
 * Read here from the point and the cached slice (the tool's own statistics need GPU-side image data, which
 * Cornerstone's CPU rendering path does not give it). World x, y are column, row times the spacing (see
 * ``provider``: origin 0, identity orientation). */
function probeText(data: any, targetId: string): string[] | undefined {
	const imageId = targetId.replace(/^imageId:/, "");
	const info = infos.get(imageId);
	const point = data.handles?.points?.[0];
	if (!info || !point) return undefined;
	const column = Math.round(point[0] / info.columnSpacing);
	const row = Math.round(point[1] / info.rowSpacing);
	if (column < 0 || row < 0 || column >= info.columns || row >= info.rows) return undefined;
	const value = cache.getImage(imageId)?.getPixelData()[row * info.columns + column];
	if (value === undefined) return undefined;
	if (!info.calibrated) return [`value ${value}`, `${column}, ${row} px`];
	return [`value ${value}`, `${(column * info.columnSpacing).toFixed(1)}, ${(row * info.rowSpacing).toFixed(1)} mm`];
}

/** "cpu" without WebGL or with a software WebGL (SwiftShader, llvmpipe: Cornerstone's CPU path is faster
 * there), else "gpu"; the page URL's ``slam_render=cpu|gpu`` overrides it (for measuring both). */
export function chooseRenderer(): { backend: "cpu" | "gpu"; webgl: string } {
	const canvas = document.createElement("canvas");
	const gl = (canvas.getContext("webgl2") || canvas.getContext("webgl")) as WebGLRenderingContext | null;
	const info = gl?.getExtension("WEBGL_debug_renderer_info");
	const webgl = gl ? String(info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER)) : "none";
	const forced = new URLSearchParams(window.location.search).get("slam_render");
	if (forced === "cpu" || forced === "gpu") return { backend: forced, webgl };
	return { backend: !gl || /swiftshader|llvmpipe|softpipe/i.test(webgl) ? "cpu" : "gpu", webgl };
}

/** Initialise Cornerstone3D once (later calls wait for the first). Falls back to CPU rendering without WebGL. */
export function initCornerstone(): Promise<void> {
	if (ready) return ready;
	ready = (async () => {
		await csInit();
		const renderer = chooseRenderer();
		metrics().renderer = renderer;
		if (renderer.backend === "cpu") setUseCPURendering(true);
		toolsInit();
		imageLoader.registerImageLoader("slam", loadSlamImage as any);
		metaData.addProvider(provider as any, 10000);
		// Four full-size display stacks (64 x 1024 x 832 x 2 bytes each) stay in memory.
		cache.setMaxCacheSize(1.5 * 1024 ** 3);
		for (const tool of [StackScrollTool, WindowLevelTool, PanTool, ZoomTool, LengthTool, ProbeTool]) addTool(tool);
		engine = new RenderingEngine(ENGINE_ID);
		const group = ToolGroupManager.createToolGroup(TOOL_GROUP_ID)!;
		group.addTool(StackScrollTool.toolName);
		group.addTool(WindowLevelTool.toolName);
		group.addTool(PanTool.toolName);
		group.addTool(ZoomTool.toolName, { zoomToCenter: false });
		group.addTool(LengthTool.toolName);
		group.addTool(ProbeTool.toolName, { getTextLines: probeText });
		setLeftTool("wl");
	})();
	return ready;
}

export function getEngine(): RenderingEngine {
	if (!engine) throw new Error("Cornerstone is not initialised");
	return engine;
}

/** Draw the viewports Cornerstone has flagged for its next animation frame now: a slice set from a key
 * press is then on the canvas before the frame is composed, one frame sooner than at the next
 * requestAnimationFrame. Cornerstone has no public call for this (the rAF callback of the engine's
 * implementation is called); where it is missing, the next frame draws them as before. */
export function renderFlaggedNow(): void {
	type Flagged = { _renderFlaggedViewports?: () => void };
	const inner = (engine as unknown as { _implementation?: Flagged } | null)?._implementation;
	inner?._renderFlaggedViewports?.();
}

export function toolGroup() {
	return ToolGroupManager.getToolGroup(TOOL_GROUP_ID)!;
}

const { MouseBindings, KeyboardBindings } = ToolEnums;

/** Bind the mouse: wheel = slice, ctrl+wheel and right drag = zoom at the cursor, middle or shift+left = pan,
 * left = ``left`` (window/level, the length ruler or the probe). */
export function setLeftTool(left: LeftTool): void {
	const group = toolGroup();
	const leftName = { wl: WindowLevelTool.toolName, length: LengthTool.toolName, probe: ProbeTool.toolName }[left];
	for (const name of [WindowLevelTool.toolName, LengthTool.toolName, ProbeTool.toolName]) {
		if (name !== leftName) group.setToolPassive(name);
	}
	group.setToolActive(leftName, { bindings: [{ mouseButton: MouseBindings.Primary }] });
	group.setToolActive(PanTool.toolName, {
		bindings: [
			{ mouseButton: MouseBindings.Auxiliary },
			{ mouseButton: MouseBindings.Primary, modifierKey: KeyboardBindings.Shift }
		]
	});
	group.setToolActive(ZoomTool.toolName, {
		bindings: [
			{ mouseButton: MouseBindings.Secondary },
			{ mouseButton: MouseBindings.Wheel, modifierKey: KeyboardBindings.Ctrl }
		]
	});
	group.setToolActive(StackScrollTool.toolName, { bindings: [{ mouseButton: MouseBindings.Wheel }] });
}

export { Enums };
