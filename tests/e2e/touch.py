"""Touch-target measurement shared by browser tests: every visible control on
the page, with its size, so a test can demand 48 × 48 px (docs/product.md)."""

from __future__ import annotations

# What a finger can hit. Checkboxes, radios and switches are measured by their
# label (the input itself is drawn hidden); select boxes by their whole box.
CONTROLS = ", ".join(
    [
        "button",
        "a[href]",
        "[role=tab]",
        "summary",
        "input:not([type=checkbox]):not([type=radio]):not([type=hidden])",
        "textarea",
        "[data-baseweb=select] > div",
        "label[data-baseweb=checkbox]",
        "[data-testid=stCheckbox] label",
        "label[data-baseweb=radio]",
    ]
)

MEASURE = """(selector) => {
  const seen = [];
  for (const el of document.querySelectorAll(selector)) {
    if (!el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
    if (el.closest('[inert], [aria-hidden=true], [data-testid=stToast]')) continue;
    const r = el.getBoundingClientRect();
    // Zero-sized or 1 px "visually hidden" helpers (the skip link) are not targets.
    if (r.width <= 1 || r.height <= 1) continue;
    // A select box's search field sits inside its box, which is measured.
    if (el.tagName === 'INPUT' && el.closest('[data-baseweb=select]')) continue;
    // Links inside text (markdown) are not controls.
    if (el.tagName === 'A' && el.closest('[data-testid=stMarkdownContainer]')) continue;
    // Glide data grid's hidden helpers sit behind the canvas.
    if (el.closest('[data-testid=stDataFrame]') && el.tagName !== 'BUTTON') continue;
    const label = (el.getAttribute('aria-label') || el.innerText || el.getAttribute('placeholder')
                   || el.getAttribute('data-testid') || el.tagName).trim().slice(0, 40);
    seen.push({label, tag: el.tagName, width: Math.round(r.width * 10) / 10,
               height: Math.round(r.height * 10) / 10,
               key: (el.closest('[class*=st-key-]')?.className.match(/st-key-[^ ]+/) || [''])[0]});
  }
  return seen;
}"""


def small_controls(page, minimum: float = 47.5) -> list[dict]:
    """The visible controls smaller than ``minimum`` px in either direction."""
    return [
        c for c in page.evaluate(MEASURE, CONTROLS) if c["height"] < minimum or c["width"] < minimum
    ]
