// Placeholders for <morelike-recs>: an inline SVG shape per kind of product,
// filled with the product's colour, so a page without images reads at a
// glance. Imported by morelike-recs.js; no dependencies.
//
// Built with DOM calls only: catalog text never reaches CSS or SVG as is
// (colours come from the table below or a hue hashed from the name).


const COLOURS = {
  black: '#1f1f1f', white: '#f8f8f8', grey: '#8a8a8a', gray: '#8a8a8a', silver: '#c0c0c0',
  charcoal: '#36454f', navy: '#1f2f5c', 'navy blue': '#1f2f5c', blue: '#2f6fd0', 'turquoise blue': '#30b5c8',
  teal: '#22808a', green: '#2f8f4e', 'sea green': '#2e8b57', olive: '#73772f', 'lime green': '#7ccd3c',
  'fluorescent green': '#8df24a', yellow: '#f2c431', mustard: '#d1a12a', gold: '#d4af37', orange: '#f07c2a',
  rust: '#b7410e', red: '#d03b3b', maroon: '#7a1f2b', burgundy: '#800020', pink: '#f08cb4', magenta: '#c8307e',
  rose: '#e8a0a8', purple: '#7a3fa0', lavender: '#b9a6e0', mauve: '#b784a7', beige: '#e3d3b4', cream: '#f3ead3',
  'off white': '#f1ede4', khaki: '#b8a76b', brown: '#7b4a2a', 'coffee brown': '#5a3a22', tan: '#c49a6c',
  skin: '#e8c0a0', nude: '#e3bc9a', peach: '#f5b38d', copper: '#b87333', bronze: '#a97142', steel: '#7b8a99',
  metallic: '#a8a9ad', taupe: '#8b7d6b', 'mushroom brown': '#9b8469', 'grey melange': '#a3a3a3',
};
const MULTI = new Set(['multi', 'multicolour', 'multicolor', 'multi colour', 'assorted']);
export const COLOUR_FIELDS = ['baseColour', 'colour', 'color', 'Colour', 'Color'];
const KIND_FIELDS = ['articleType', 'kind', 'aisle', 'subCategory', 'category', 'type', 'department'];

// Shapes on a 100 × 100 box; the first pattern that matches the kind wins.
const SHAPES = [
  ['tee', /t-?shirt|sweatshirt|tee|top|kurta|tunic|sweater|jacket|blazer|hoodie|jersey|waistcoat|camisole|shrug|nightdress|innerwear vest|bra/,
    'M30 14 L42 10 Q50 18 58 10 L70 14 L90 32 L79 45 L71 38 L71 90 L29 90 L29 38 L21 45 L10 32 Z'],
  ['shirt', /shirt|blouse/,
    'M30 14 L41 9 L50 26 L59 9 L70 14 L90 32 L79 45 L71 38 L71 90 L29 90 L29 38 L21 45 L10 32 Z M49 32 L51 32 L51 86 L49 86 Z'],
  ['dress', /dress|skirt|saree|lehenga|gown|dupatta/, 'M40 10 L60 10 L58 32 L82 90 L18 90 L42 32 Z'],
  ['bottom', /jean|trouser|pant|short|legging|capri|jegging|track|salwar|churidar|boxer|brief|trunk|patiala/,
    'M27 10 L73 10 L80 90 L57 90 L50 40 L43 90 L20 90 Z'],
  ['shoe', /shoe|sandal|flip flop|heel|flat|sneaker|boot|slipper|floater|footwear|loafer/,
    'M8 62 L10 38 L34 40 Q44 56 64 58 L88 64 Q94 68 92 78 L8 78 Z'],
  ['bag', /bag|backpack|wallet|clutch|purse|pouch|luggage|trolley|rucksack|duffel/,
    'M18 36 L82 36 L88 90 L12 90 Z M36 36 Q36 14 50 14 Q64 14 64 36 L58 36 Q58 20 50 20 Q42 20 42 36 Z'],
  ['watch', /watch/, 'M40 6 L60 6 L60 28 A24 24 0 0 1 60 72 L60 94 L40 94 L40 72 A24 24 0 0 1 40 28 Z'],
  ['glasses', /sunglass|eyewear|spectacle|frame/,
    'M8 44 L92 44 L92 52 L86 52 A16 16 0 0 1 56 56 L44 56 A16 16 0 0 1 14 52 L8 52 Z'],
  ['jewellery', /ring|earring|necklace|pendant|bracelet|bangle|jewel|chain|anklet|cufflink/,
    'M50 14 L72 36 L50 88 L28 36 Z'],
  ['cap', /cap|hat|helmet|beanie|headband/, 'M14 66 Q14 26 50 26 Q86 26 86 66 L96 72 L14 72 Z'],
  ['bottle', /perfume|deodorant|fragrance|lotion|cream|shampoo|wash|oil|gel|lipstick|nail|serum|spray|milk|juice|water|soda|beverage|drink|wine|beer|sauce|dressing|yogurt|dairy/,
    'M42 8 L58 8 L58 24 Q72 32 72 46 L72 90 L28 90 L28 46 Q28 32 42 24 Z'],
  ['produce', /fruit|vegetable|produce|apple|banana|berr|herb|lettuce|potato|tomato|onion|avocado/,
    'M50 30 Q78 18 86 48 Q90 86 50 90 Q10 86 14 48 Q22 18 50 30 Z M50 30 Q52 12 66 8 Q62 22 50 30 Z'],
  ['loaf', /bread|bakery|bagel|bun|roll|muffin|cake|cookie|cracker|biscuit|pastr/,
    'M12 48 Q12 24 50 24 Q88 24 88 48 Q80 52 80 58 L80 84 L20 84 L20 58 Q20 52 12 48 Z'],
  ['tag', /./, 'M14 20 L54 20 L88 54 L54 88 L14 54 Z M28 34 A6 6 0 1 0 28.1 34 Z'],
];

function hashHue(text) {
  let h = 0;
  for (const c of text) h = (h * 31 + c.codePointAt(0)) >>> 0;
  return h % 360;
}

/** The first non-empty text of `fields` in `attributes`, or ''. */
export const firstOf = (attributes, fields) => fields.map((f) => attributes[f]).find((v) => typeof v === 'string' && v) || '';

/** The product's kind (its article type, aisle, …) as the catalog names it, or ''. */
export function kindOf(attributes) { return firstOf(attributes || {}, KIND_FIELDS); }

/**
 * The fill of a product's placeholder: a colour from the widget's own table
 * for a known colour name, a hue hashed from an unknown one, 'multi' for
 * many colours. Catalog text never reaches CSS or SVG as is.
 */
export function placeholderColour(attributes) {
  const name = firstOf(attributes || {}, COLOUR_FIELDS).toLowerCase().trim();
  if (MULTI.has(name)) return 'multi';
  if (COLOURS[name]) return COLOURS[name];
  const basis = name || kindOf(attributes);
  return basis ? `hsl(${hashHue(basis)} 45% 58%)` : '#b9b9b9';
}

/** The shape drawn for a kind: its name and SVG path. */
export function shapeOf(kind) {
  const k = String(kind).toLowerCase();
  const [name, , path] = SHAPES.find(([, pattern]) => pattern.test(k)) || SHAPES.at(-1);
  return { name, path };
}

const SVG = 'http://www.w3.org/2000/svg';
let gradients = 0;

/** An inline SVG of the product's kind in its colour, built with DOM calls only. */
export function placeholderSvg(attributes) {
  const kind = kindOf(attributes);
  const shape = shapeOf(kind);
  const colour = placeholderColour(attributes);
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 100 100');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.classList.add('shape');
  svg.dataset.shape = shape.name;
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', shape.path);
  path.setAttribute('fill-rule', 'evenodd');
  if (colour === 'multi') {
    const id = `morelike-multi-${++gradients}`;
    const defs = document.createElementNS(SVG, 'defs');
    const gradient = document.createElementNS(SVG, 'linearGradient');
    gradient.id = id;
    ['#d03b3b', '#f2c431', '#2f8f4e', '#2f6fd0', '#7a3fa0'].forEach((c, i, all) => {
      const stop = document.createElementNS(SVG, 'stop');
      stop.setAttribute('offset', String(i / (all.length - 1)));
      stop.setAttribute('stop-color', c);
      gradient.append(stop);
    });
    defs.append(gradient);
    svg.append(defs);
    path.setAttribute('fill', `url(#${id})`);
    svg.dataset.fill = 'multi';
  } else {
    path.setAttribute('fill', colour);
    svg.dataset.fill = colour;
  }
  path.setAttribute('stroke', 'rgba(0,0,0,.35)');
  path.setAttribute('stroke-width', '1.5');
  svg.append(path);
  return svg;
}
