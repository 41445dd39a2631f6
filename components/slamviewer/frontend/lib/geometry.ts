// Pure helpers: hanging, depth synchronisation, orientation labels, scale bar, finding visibility.

import type { Finding, ViewportSpec } from "./types";

/** Grid of the hanging: 1 x 1 for one viewport, 1 x 2 when only positions 0 and 1 are used, else 2 x 2. */
export function gridShape(viewports: ViewportSpec[]): { rows: number; cols: number } {
	if (viewports.length <= 1) return { rows: 1, cols: 1 };
	const maxPosition = Math.max(...viewports.map((v) => v.position));
	return maxPosition <= 1 ? { rows: 1, cols: 2 } : { rows: 2, cols: 2 };
}

/** The slice of a stack of ``targetSlices`` at the same relative depth as ``slice`` of ``sourceSlices``. */
export function sameDepth(slice: number, sourceSlices: number, targetSlices: number): number {
	if (sourceSlices <= 1 || targetSlices <= 1) return 0;
	const relative = slice / (sourceSlices - 1);
	return Math.min(targetSlices - 1, Math.max(0, Math.round(relative * (targetSlices - 1))));
}

/** Edge labels of a displayed mammogram: the direction each image edge points to in the patient.
 *
 * The display stack is hung with the chest wall toward the other breast ("back to back"): right views have
 * the chest wall on the right edge and the nipple on the left, left views the mirror image. A (anterior) is
 * the nipple side, P the chest wall; CC views run lateral (top) to medial (bottom), MLO views head to foot.
 */
export function edgeLabels(laterality: string, view: string): { left: string; right: string; top: string; bottom: string } {
	const right = laterality.toUpperCase() !== "L";
	const [nippleSide, wallSide] = right ? ["left", "right"] : ["right", "left"];
	const labels = { left: "", right: "", top: "", bottom: "" } as Record<string, string>;
	labels[nippleSide] = "A";
	labels[wallSide] = "P";
	if (view.toUpperCase().includes("MLO")) {
		labels.top = "H";
		labels.bottom = "F";
	} else if (view.toUpperCase().includes("CC")) {
		labels.top = right ? "R" : "L"; // lateral
		labels.bottom = right ? "L" : "R"; // medial
	}
	return labels as { left: string; right: string; top: string; bottom: string };
}

/** A round bar length (mm) whose on-screen length is between ``minPx`` and ~2.5 x ``minPx``. */
export function scaleBarMm(pxPerMm: number, minPx = 60): number {
	const steps = [1, 2, 5, 10, 20, 50, 100, 200];
	for (const mm of steps) if (mm * pxPerMm >= minPx) return mm;
	return steps[steps.length - 1];
}

/** Findings drawn at ``slice`` (``slice`` null: on the SM, every finding), above the score threshold. */
export function visibleFindings(findings: Finding[], slice: number | null, threshold: number): Finding[] {
	return findings.filter(
		(f) => f.score >= threshold && (slice === null || (f.first_slice <= slice && slice <= f.last_slice))
	);
}

/** The URL of slice ``index`` from a contract template such as ``/slam/stack/TOKEN/{index}``. */
export function sliceUrl(template: string, index: number): string {
	return template.replace("{index}", String(index));
}
