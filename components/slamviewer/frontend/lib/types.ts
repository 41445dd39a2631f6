// The viewer contract (docs/viewer-component.md), as the browser receives it.

export interface Finding {
	x: number; // display-stack pixels, left edge
	y: number; // top edge
	width: number;
	height: number;
	slice: number; // 0-based slice of the finding's centre
	first_slice: number;
	last_slice: number;
	score: number;
	label: string;
}

export interface ViewportSpec {
	id: string;
	position: number; // 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right
	label: string;
	laterality: string; // "R" | "L" | ""
	view: string; // "CC" | "MLO" | ...
	slices: number;
	rows: number;
	columns: number;
	full_rows: number;
	full_columns: number;
	pixel_spacing_mm: [number, number] | null; // (row, column) of the display stack; null: the file gives none
	stack_url: string; // contains "{index}"
	region_url: string | null;
	sm_url: string | null;
	sm_slice_url: string | null;
	window: { center: number; width: number };
	presets: Record<string, [number, number]>;
	invert: boolean;
	initial_slice: number;
	findings: Finding[];
}

export interface ViewerValue {
	viewports: ViewportSpec[];
	threshold: number;
	show_boxes: boolean;
	sync: boolean;
}

export interface SelectPayload {
	viewport: string;
	slice: number;
	finding: string | null;
}
