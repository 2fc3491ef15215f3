// Small DOM helpers: elements are built with textContent only (never innerHTML), so nothing the
// API returns is ever read as markup.

export function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el;
}

type Child = Node | string | null | undefined | false;

/** `<tag>` with attributes (`class`, `data-*`, …) and children (strings become text). */
export function el(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) if (c) node.append(c);
  return node;
}

export const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element with attributes and, optionally, text. */
export function svgEl(tag: string, attrs: Record<string, string | number> = {}, text?: string): SVGElement {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A steady colour per party, from its name. */
export function partyColour(party: string): string {
  let h = 0;
  for (const ch of party) h = (h * 31 + ch.charCodeAt(0)) % 360;
  return `hsl(${(h * 47) % 360} 70% 42%)`;
}

/** The popup of a clicked shape, at the pointer. */
export function popup(ev: MouseEvent, lines: string[]): void {
  const box = $("popup");
  box.replaceChildren(...lines.map((l) => el("div", {}, l)));
  box.style.left = `${ev.clientX + 12}px`;
  box.style.top = `${ev.clientY + 12}px`;
  box.hidden = false;
  ev.stopPropagation();
}

/** Offers `text` as a file download, made in the page (nothing goes to the broker). */
export function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = el("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
