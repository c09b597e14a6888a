/** WeCom's message text is HTML-like: people's text is shown as written. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;');
}

/** Cuts UTF-8 text to at most `bytes`, never inside a character, marking the cut with "…". */
export function cutToBytes(text: string, bytes: number): string {
  if (Buffer.byteLength(text) <= bytes) return text;
  let cut = '';
  for (const char of text) {
    if (Buffer.byteLength(`${cut}${char}…`) > bytes) break;
    cut += char;
  }
  return `${cut}…`;
}
