"""What a page looks like, measured in the browser, for the page tests that judge it:
the contrast of every text against what is behind it (WCAG 2), the size of tap
targets, and every text's size and whether it is cut off or sticks out of its box.
Each is a JavaScript function for Playwright's `page.evaluate`.
"""

from __future__ import annotations

from typing import Any

MIN_CONTRAST = 4.5
SMALLEST_PX = 24  # text read from across the hall

# Each piece of text inside the matched elements, with the contrast (WCAG 2)
# between its computed colour and the first opaque background behind it.
CONTRASTS = """selector => {
  const rgba = s => { const p = s.match(/[\\d.]+/g).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const behind = el => { for (let e = el; e; e = e.parentElement) {
    const c = rgba(getComputedStyle(e).backgroundColor); if (c[3] === 1) return c;
    if (c[3] > 0) throw new Error('translucent background on ' + e.className); }
    return [255, 255, 255, 1]; };
  const out = [];
  for (const button of document.querySelectorAll(selector)) {
    for (const el of [button, ...button.querySelectorAll('*')]) {
      const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
      if (!own) continue;
      let opacity = 1;
      for (let e = el; e; e = e.parentElement) opacity *= Number(getComputedStyle(e).opacity);
      const bg = behind(el), fg = rgba(getComputedStyle(el).color);
      const a = fg[3] * opacity, mixed = [0, 1, 2].map(i => fg[i] * a + bg[i] * (1 - a));
      const [hi, lo] = [lum(mixed), lum(bg)].sort((x, y) => y - x);
      out.push([button.getAttribute('data-score') + ' ' + el.textContent.trim(), (hi + 0.05) / (lo + 0.05)]);
    }
  }
  return out;
}"""

SIZES = """selector => [...document.querySelectorAll(selector)].map(b => {
  const r = b.getBoundingClientRect(); return [b.textContent.trim(), r.width, r.height]; })"""


def unreadable(p: Any, selector: str) -> list[tuple[str, float]]:
    measured = p.evaluate(CONTRASTS, selector)
    assert measured, f"nothing to measure in {selector}"
    return [(what, round(ratio, 2)) for what, ratio in measured if ratio < MIN_CONTRAST]


# Every element that shows text of its own: its font size, and whether it is cut
# off (wider than its clipping box) or outside a box that hides what overflows.
# The two scrolling bands (the calling rule, the notices) move on purpose.
MEASURE = """smallest => {
  const problems = [];
  const name = e => e.id ? '#' + e.id : e.tagName.toLowerCase() + '.' + [...e.classList].join('.') +
      (e.closest('[data-window]') ? ' of window ' + e.closest('[data-window]').dataset.window : '');
  for (const el of document.querySelectorAll('body *')) {
    const texts = [...el.childNodes].filter(n => n.nodeType === 3 && n.textContent.trim());
    const box = el.getBoundingClientRect();
    if (!texts.length || !box.width || !box.height) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    const what = name(el) + ' "' + el.textContent.trim().slice(0, 20) + '"';
    if (size < smallest) problems.push(what + ' is ' + size + 'px');
    if (el.closest('#ticker, #policyWindow')) continue;
    const cs = getComputedStyle(el);
    if (cs.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1)
      problems.push(what + ' is cut off: ' + el.scrollWidth + ' > ' + el.clientWidth);
    // each line of text: its glyphs across, its em box (1 font size high) up and down
    const lines = texts.flatMap(t => { const r = document.createRange(); r.selectNodeContents(t); return [...r.getClientRects()]; });
    outside: for (const r of lines) {
      const middle = (r.top + r.bottom) / 2;
      for (let a = el; a && a !== document.documentElement; a = a.parentElement) {
        const acs = getComputedStyle(a);
        if (acs.overflowX === 'visible' && acs.overflowY === 'visible' && a !== document.body) continue;
        const b = a.getBoundingClientRect();
        if (r.left < b.left - 1 || r.right > b.right + 1 || middle - size / 2 < b.top - 1 || middle + size / 2 > b.bottom + 1) {
          problems.push(what + ' sticks out of ' + name(a));
          break outside;
        }
      }
    }
  }
  const doc = document.documentElement;
  if (doc.scrollWidth > innerWidth || doc.scrollHeight > innerHeight) problems.push('the page scrolls');
  return problems;
}"""
