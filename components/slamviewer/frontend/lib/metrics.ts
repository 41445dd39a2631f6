// Timings the benchmark and the tests read from the page (window.__slamviewer); nothing is sent anywhere.

export interface ViewportMetrics {
	slice: number;
	mode: "slices" | "sm";
	loaded: number;
	total: number;
	firstImageMs: number | null; // from the viewport's mount to its first slice painted
	stackLoadedMs: number | null; // from the mount to the last slice in the browser
	renders: number;
	error: string | null;
	alignedBy: number | null; // canvas px the image was last panned to put its chest wall at the inner edge
}

export interface Metrics {
	viewports: Record<string, ViewportMetrics>;
	sliceLatenciesMs: number[]; // key press -> the frame after the new slice was rendered
	sliceDrawnMs: number[]; // key press -> the new slice drawn on the canvas (shown at the next frame)
	keyAt: number | null;
	lastSmClick: { viewport: string; x: number; y: number; slice: number } | null; // display-stack pixel
	renderer: { backend: "cpu" | "gpu"; webgl: string } | null; // Cornerstone's rendering path, the WebGL renderer
}

declare global {
	interface Window {
		__slamviewer?: Metrics;
	}
}

export function metrics(): Metrics {
	if (!window.__slamviewer) window.__slamviewer = { viewports: {}, sliceLatenciesMs: [], sliceDrawnMs: [], keyAt: null, lastSmClick: null, renderer: null };
	return window.__slamviewer;
}
