// A small XML well-formedness checker for the SVG tests: balanced tags, one
// root, quoted unique attributes, valid entity references, no stray '<' or
// '&'. Returns the element tree so tests can look inside.

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_:][A-Za-z0-9_:.-]*/;
const ENTITY = /^&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/;

function checkText(text: string, where: number): string {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '<') throw new Error(`raw '<' in text at ${where + i}`);
    if (text[i] === '&' && !ENTITY.test(text.slice(i))) throw new Error(`bad entity reference at ${where + i}`);
  }
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

export function parseXml(source: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;

  const skipSpace = () => {
    while (i < source.length && /\s/.test(source[i])) i++;
  };

  while (i < source.length) {
    if (source.startsWith('<?', i)) {
      const end = source.indexOf('?>', i);
      if (end < 0) throw new Error('unterminated processing instruction');
      i = end + 2;
    } else if (source.startsWith('<!--', i)) {
      const end = source.indexOf('-->', i + 4);
      if (end < 0) throw new Error('unterminated comment');
      i = end + 3;
    } else if (source.startsWith('<![CDATA[', i)) {
      const end = source.indexOf(']]>', i);
      if (end < 0 || stack.length === 0) throw new Error('bad CDATA section');
      stack[stack.length - 1].text += source.slice(i + 9, end);
      i = end + 3;
    } else if (source.startsWith('<!DOCTYPE', i)) {
      const end = source.indexOf('>', i);
      if (end < 0 || root) throw new Error('bad DOCTYPE');
      i = end + 1;
    } else if (source.startsWith('</', i)) {
      i += 2;
      const m = NAME.exec(source.slice(i));
      if (!m) throw new Error(`bad closing tag at ${i}`);
      i += m[0].length;
      skipSpace();
      if (source[i] !== '>') throw new Error(`bad closing tag </${m[0]} at ${i}`);
      i++;
      const open = stack.pop();
      if (!open || open.name !== m[0]) throw new Error(`</${m[0]}> closes <${open?.name ?? 'nothing'}>`);
    } else if (source[i] === '<') {
      i++;
      const m = NAME.exec(source.slice(i));
      if (!m) throw new Error(`bad tag name at ${i}`);
      i += m[0].length;
      const el: XmlElement = { name: m[0], attrs: {}, children: [], text: '' };
      for (;;) {
        const before = i;
        skipSpace();
        if (source.startsWith('/>', i) || source[i] === '>') break;
        if (i === before) throw new Error(`expected space before attribute at ${i}`);
        const a = NAME.exec(source.slice(i));
        if (!a) throw new Error(`bad attribute name at ${i}`);
        i += a[0].length;
        skipSpace();
        if (source[i] !== '=') throw new Error(`attribute ${a[0]} without '=' at ${i}`);
        i++;
        skipSpace();
        const quote = source[i];
        if (quote !== '"' && quote !== "'") throw new Error(`unquoted attribute ${a[0]} at ${i}`);
        const end = source.indexOf(quote, i + 1);
        if (end < 0) throw new Error(`unterminated attribute ${a[0]}`);
        if (a[0] in el.attrs) throw new Error(`duplicate attribute ${a[0]} on <${el.name}>`);
        el.attrs[a[0]] = checkText(source.slice(i + 1, end), i + 1);
        i = end + 1;
      }
      if (stack.length > 0) stack[stack.length - 1].children.push(el);
      else if (root) throw new Error(`second root element <${el.name}>`);
      else root = el;
      if (source.startsWith('/>', i)) i += 2;
      else {
        i++;
        stack.push(el);
      }
    } else {
      const next = source.indexOf('<', i);
      const end = next < 0 ? source.length : next;
      const raw = source.slice(i, end);
      if (stack.length === 0) {
        if (raw.trim() !== '') throw new Error(`text outside the root element at ${i}`);
      } else {
        stack[stack.length - 1].text += checkText(raw, i);
      }
      i = end;
    }
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack[stack.length - 1].name}>`);
  if (!root) throw new Error('no root element');
  return root;
}

/** Every element in document order. */
export function allElements(root: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    out.push(e);
    e.children.forEach(walk);
  };
  walk(root);
  return out;
}
