// The widget's own interface strings in the assistant's four languages (the replies themselves come
// translated from the server), and how the widget tells which language and direction a reply is in.

export const LANGUAGES = ["en", "fr", "ru", "ar"];
export const ENDONYMS = { en: "English", fr: "Français", ru: "Русский", ar: "العربية" };

export const STRINGS = {
  en: {
    placeholder: "Ask about solutions, partners or the Galaxy…", send: "Send", yourMessage: "Your message",
    open: "Open chat", close: "Close chat", chat: "chat", conversation: "Conversation", typing: "is typing",
    connecting: "Connecting…", lost: "Connection lost. Reconnecting…", unreachable: "The assistant is unreachable. Retrying…",
    language: "Language",
    empty: "Hello! Ask me to find South-South solutions or partners, e.g. “solutions for water scarcity”.",
  },
  fr: {
    placeholder: "Posez une question sur les solutions, les partenaires ou la Galaxy…", send: "Envoyer", yourMessage: "Votre message",
    open: "Ouvrir la discussion", close: "Fermer la discussion", chat: "discussion", conversation: "Conversation", typing: "est en train d'écrire",
    connecting: "Connexion…", lost: "Connexion perdue. Reconnexion…", unreachable: "L'assistant est injoignable. Nouvelle tentative…",
    language: "Langue",
    empty: "Bonjour ! Demandez-moi des solutions Sud-Sud ou des partenaires, par exemple « solutions contre la pénurie d'eau ».",
  },
  ru: {
    placeholder: "Спросите о решениях, партнёрах или о Galaxy…", send: "Отправить", yourMessage: "Ваше сообщение",
    open: "Открыть чат", close: "Закрыть чат", chat: "чат", conversation: "Разговор", typing: "печатает",
    connecting: "Подключение…", lost: "Соединение потеряно. Переподключение…", unreachable: "Ассистент недоступен. Повторная попытка…",
    language: "Язык",
    empty: "Здравствуйте! Попросите меня найти решения Юг–Юг или партнёров, например «решения проблемы нехватки воды».",
  },
  ar: {
    placeholder: "اسأل عن الحلول أو الشركاء أو منصة غالاكسي…", send: "إرسال", yourMessage: "رسالتك",
    open: "فتح المحادثة", close: "إغلاق المحادثة", chat: "محادثة", conversation: "المحادثة", typing: "يكتب الآن",
    connecting: "جارٍ الاتصال…", lost: "انقطع الاتصال. جارٍ إعادة الاتصال…", unreachable: "تعذّر الوصول إلى المساعد. جارٍ إعادة المحاولة…",
    language: "اللغة",
    empty: "مرحبًا! اطلب مني البحث عن حلول أو شركاء في إطار التعاون فيما بين بلدان الجنوب، مثل «حلول لندرة المياه».",
  },
};

export function supported(code) {
  const short = String(code || "").slice(0, 2).toLowerCase();
  return LANGUAGES.includes(short) ? short : null;
}

const ARABIC = /[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]/g;
const CYRILLIC = /[\u0400-\u04FF]/g;
const LATIN = /[A-Za-z\u00C0-\u024F]/g;
// Words of the assistant's French replies that its English ones never use.
const FRENCH = /(«|»|\b(vous|votre|voici|je|les|des|pour|une|aucun|désolé)\b)/gi;

function count(text, pattern) {
  return (text.match(pattern) || []).length;
}

// The language of one of the assistant's replies: its script for Arabic and Russian, its wording for
// French. Result cards (English records) follow the reply's first paragraph, so that is what counts.
export function replyLanguage(whole) {
  const text = String(whole || "").trim().split(/\n\s*\n/)[0];
  const arabic = count(text, ARABIC);
  const cyrillic = count(text, CYRILLIC);
  const latin = count(text, LATIN);
  if (arabic && arabic >= cyrillic && arabic * 3 >= latin) return "ar";
  if (cyrillic && cyrillic * 3 >= latin) return "ru";
  if (count(text.slice(0, 400), FRENCH) >= 2) return "fr";
  return latin ? "en" : null;
}

// A whole bubble is right to left when its text is mostly Arabic (not just its Arabic runs).
export function direction(text) {
  return replyLanguage(text) === "ar" ? "rtl" : "auto";
}
