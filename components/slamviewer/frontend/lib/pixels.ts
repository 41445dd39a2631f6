// Fetching raw little-endian uint16 images (a stack slice, the SM, the SM slice map, a region).

/** Fetch ``url`` and return its body as uint16 of exactly ``rows * columns`` values, or throw a one-line error.
 * gzip (Content-Encoding) is undone by the browser. */
export async function fetchUint16(url: string, rows: number, columns: number, signal?: AbortSignal): Promise<Uint16Array> {
	const response = await fetch(url, { credentials: "same-origin", signal });
	if (!response.ok) throw new Error(`${response.status} from the server for ${shortUrl(url)}`);
	const buffer = await response.arrayBuffer();
	const expected = rows * columns * 2;
	if (buffer.byteLength !== expected) {
		throw new Error(`${shortUrl(url)} sent ${buffer.byteLength} bytes; ${rows}x${columns} uint16 (${expected} bytes) expected`);
	}
	return new Uint16Array(buffer);
}

/** The URL without its capability token, for messages (a token is a secret; it never goes to the screen). */
function shortUrl(url: string): string {
	const parts = url.split("?")[0].split("/");
	return parts.length > 3 ? `/${parts[1]}/${parts[2]}/…/${parts[parts.length - 1]}` : url;
}

/** Resolve a contract URL (absolute path) against the Gradio app's root URL. */
export function resolveUrl(root: string | undefined, url: string): string {
	if (!root || /^https?:/.test(url)) return url;
	return root.replace(/\/+$/, "") + (url.startsWith("/") ? url : `/${url}`);
}

/** Window ``values`` (uint16) into RGBA ``out`` with centre/width and inversion (a linear VOI, as DICOM). */
export function windowToRgba(values: Uint16Array, out: Uint8ClampedArray, center: number, width: number, invert: boolean): void {
	const lut = new Uint8ClampedArray(65536);
	const lower = center - width / 2;
	const span = Math.max(width, 1);
	for (let v = 0; v < 65536; v++) {
		const g = Math.round(((v - lower) / span) * 255);
		lut[v] = invert ? 255 - g : g;
	}
	for (let i = 0, j = 0; i < values.length; i++, j += 4) {
		const g = lut[values[i]];
		out[j] = g;
		out[j + 1] = g;
		out[j + 2] = g;
		out[j + 3] = 255;
	}
}
