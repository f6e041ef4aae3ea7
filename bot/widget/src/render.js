// Turns the assistant's channel-neutral text (light markdown, see actions/formatting.py) into DOM nodes.
// Only text nodes and http(s) links are created, never HTML from the message, so echoed input stays inert.

const RESULT_HEAD = /^(\d+)\.\s+\*\*(.+?)\*\*(.*)$/;
const INLINE = /(\[[^\]\n]+\]\(https?:\/\/[^)\s]+\)|\*\*[^*\n]+\*\*|https?:\/\/[^\s<>"']+)/g;
const MARKDOWN_LINK = /^\[([^\]\n]+)\]\((https?:\/\/[^)\s]+)\)$/;
const TRAILING_PUNCTUATION = /[.,;:!?)\]]+$/;
// Card labels in the four languages (actions/messages/*.yml, card.*) and the field each one styles.
const FIELD_OF_LABEL = {
  Why: "why", Source: "source", Countries: "countries", Provider: "provider", "Works on": "works-on",
  Pourquoi: "why", Pays: "countries", Fournisseur: "provider", "Domaines d'action": "works-on",
  "Почему": "why", "Источник": "source", "Страны": "countries", "Исполнитель": "provider", "Направления работы": "works-on",
  "سبب الاختيار": "why", "المصدر": "source", "البلدان": "countries", "الجهة المقدِّمة": "provider", "مجالات العمل": "works-on",
};

function link(url, label = url) {
  const anchor = document.createElement("a");
  anchor.href = url;
  anchor.textContent = label;
  anchor.target = "_blank";
  anchor.rel = "noopener noreferrer";
  return anchor;
}

function appendInline(parent, text) {
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    parent.append(text.slice(last, match.index));
    let token = match[0];
    last = match.index + token.length;
    const named = token.match(MARKDOWN_LINK);
    if (named) {
      parent.append(link(named[2], named[1]));
      continue;
    }
    if (token.startsWith("**")) {
      const strong = document.createElement("strong");
      strong.textContent = token.slice(2, -2);
      parent.append(strong);
      continue;
    }
    const trailing = (token.match(TRAILING_PUNCTUATION) || [""])[0];
    token = token.slice(0, token.length - trailing.length);
    parent.append(link(token), trailing);
  }
  parent.append(text.slice(last));
}

function paragraph(text) {
  const node = document.createElement("p");
  text.split("\n").forEach((line, index) => {
    if (index) node.append(document.createElement("br"));
    appendInline(node, line.trim());
  });
  return node;
}

// A numbered result ("1. **Title** ..." then indented "Label: value" lines) becomes a card.
function resultCard(lines, head) {
  const card = document.createElement("article");
  card.className = "card";
  card.dir = "auto";
  const title = document.createElement("h3");
  title.append(`${head[1]}. `);
  appendInline(title, `**${head[2]}**${head[3]}`);
  card.append(title);
  for (const raw of lines.slice(1)) {
    const line = raw.trim();
    if (!line) continue;
    const row = document.createElement("p");
    const label = line.match(/^([^:]{1,40}):/);
    const field = label && FIELD_OF_LABEL[label[1]];
    if (field) row.className = `field field-${field}`;
    appendInline(row, line);
    card.append(row);
  }
  return card;
}

export function renderText(text) {
  const fragment = document.createDocumentFragment();
  for (const block of text.trim().split(/\n\s*\n/)) {
    const lines = block.split("\n");
    const head = lines[0].trim().match(RESULT_HEAD);
    fragment.append(head ? resultCard(lines, head) : paragraph(block));
  }
  return fragment;
}
