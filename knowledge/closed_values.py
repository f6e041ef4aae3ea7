"""The closed vocabularies of the dialogue: how a filter changes (`operation`), which filter it is about
(`scope`) and which field of a record a question asks for (`attribute`), as phrase lists for the
gazetteer's EntityRuler; plus the `old` role of a filter value the user moves away from ("Asia instead
of Africa"). The NLU reads them (bot/nlu/gazetteer.py, bot/nlu/dialogue_vocabulary.py) and so do the
actions, for a question about the opened record that the NLU read as something else. Kept free of
Rasa imports so either virtual environment can use it.

One phrase may stand for two entities ("anywhere" = remove + place); the pattern id lists both.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

# value -> phrases (lower case; matched token by token, so inflections are listed)
OPERATION: dict[str, tuple[str, ...]] = {
    "add": (
        "also", "as well", "too", "add", "plus", "on top", "in addition", "narrow", "narrow it", "narrow down",
        "limit", "limit it", "restrict", "restrict it", "focus on", "only", "just", "filter by", "filter on",
        "filter for", "keep only", "limited to", "exclusively", "solely",
    ),
    "replace": (
        "instead", "instead of", "rather than", "rather", "switch to", "switch it to", "change to", "change it to",
        "swap", "swap it for", "replace", "replace it with", "make it", "not that but", "change the",
        "switch the",
    ),
    "remove": (
        "remove", "drop", "take away", "take off", "take out", "get rid of", "delete", "forget", "forget about",
        "without", "exclude", "no longer", "stop filtering", "ditch", "undo", "lift", "lose", "don't filter",
        "do not filter", "dont filter", "unfilter", "no need for", "leave out", "ignore", "except", "excluding",
        "except for", "other than", "apart from", "but not", "leave aside", "skip", "minus", "not including",
        "hide", "filter out", "rule out", "cut out", "neither",
    ),
    "clear": (
        "clear", "clear all", "clear everything", "reset", "reset everything", "start fresh", "from scratch",
        "no filters", "no filter", "all filters", "all the filters", "every filter", "wipe",
        "remove all filters", "remove all the filters", "drop all filters",
    ),
    "list": (
        "which filters", "what filters", "which filter", "what filter", "filters are on", "filters on",
        "wat filters", "filters r on", "what's filtered", "whats filtered",
        "filters applied", "filters are applied", "filters active", "active filters", "current filters",
        "filters set", "filters are set", "filters do you have", "filters am i using", "what am i filtering",
        "what are you filtering", "what is my search", "what's my search", "current search",
        "what are we searching", "what are you searching", "what did i ask", "what was i looking for",
        "what are you looking for", "search settings", "my filters", "the filters now", "filters right now",
    ),
}
SCOPE: dict[str, tuple[str, ...]] = {
    "country": ("country", "countries", "nation", "nations", "country filter"),
    "region": ("region", "regions", "continent", "continents", "region filter", "area", "areas"),
    "place": ("location", "place", "places", "geography", "geographic filter", "location filter", "place filter"),
    "sdg": ("sdg", "sdgs", "goal", "goals", "sdg filter", "goal filter", "global goal", "global goals"),
    "topic": ("topic", "subject", "theme", "keyword", "keywords", "query", "search term", "search terms"),
    "all": ("filters", "everything", "all of it", "all of them", "the lot"),
    # one filter, not said which: a question back when several are on
    "filter": ("filter", "that filter", "this filter", "the filter", "one filter"),
}
# Phrases that are both an operation and a scope.
COMBINED: dict[tuple[str, str], tuple[str, ...]] = {
    ("remove", "place"): (
        "anywhere", "everywhere", "worldwide", "globally", "all over the world", "any country", "any countries",
        "any region", "any place", "any location", "all countries", "all regions", "every country",
        "every region", "other countries", "other regions", "any part of the world", "not just there",
        "world wide", "whole world", "entire world",
    ),
    ("remove", "sdg"): ("any sdg", "any goal", "any sdgs", "all sdgs", "all goals", "every sdg", "every goal", "other goals", "other sdgs"),
    ("remove", "country"): ("any nation",),
    ("clear", "all"): ("all filters", "every filter", "no filters", "all the filters", "clear everything", "reset everything"),
}
ATTRIBUTE: dict[str, tuple[str, ...]] = {
    "start_year": (
        "start", "started", "starts", "begin", "began", "begun", "launch", "launched", "start year",
        "when did", "what year", "which year", "since when", "how old", "established", "founded", "created",
        "set up", "date", "kick off", "kicked off", "approved", "approval", "opened", "inaugurated",
    ),
    "duration": ("how long", "duration", "run for", "ran for", "last", "lasted", "timeline", "timeframe", "time frame", "period", "end", "ended", "ends", "finish", "finished"),
    "status": (
        "status", "still running", "still going", "still active", "still on", "ongoing", "active", "running",
        "over", "completed", "closed", "is it still", "current state", "alive",
    ),
    "funders": (
        "funder", "funders", "funded", "funds", "funding", "fund it", "financed", "financing", "finance",
        "paid", "paid for", "who pays", "pays for", "pay for", "donor", "donors", "sponsor", "sponsors", "sponsored",
        "money", "who paid", "bankrolled", "backed", "backers",
    ),
    "results": (
        "result", "results", "impact", "impacts", "outcome", "outcomes", "achieve", "achieved", "achievements",
        "did it work", "does it work", "work out", "worked", "success", "successful", "effect", "effects",
        "beneficiaries", "benefit", "benefited", "how many people", "evidence", "difference", "accomplish",
        "accomplished", "deliver", "delivered", "helped", "how many",
    ),
    "budget": ("budget", "cost", "costs", "costed", "how much", "price", "amount", "spent", "spend", "expensive", "dollars", "usd"),
    "sdgs": ("which sdgs", "what sdgs", "which goals", "what goals", "sdg", "sdgs", "goal", "goals", "global goals"),
    "countries": (
        "which countries", "what countries", "where", "countries", "country", "which country", "what country",
        "reach", "reached", "implemented in", "took place", "happen", "happened", "cover", "covered", "based",
        "located", "location", "replicated", "replicate", "replication", "used in", "used elsewhere", "adopted by",
        "adopted in", "scaled up", "learned from", "learnt from",
    ),
    "provider": (
        "provider", "provided", "provides", "who runs", "run by", "runs it", "who is behind", "who's behind",
        "behind it", "behind them", "behind this", "behind that", "behind these", "agency behind", "implemented by", "implementer", "implementing", "who made", "who developed", "developed by",
        "who leads", "led by", "organisation behind", "organization behind", "owner", "owns", "who did",
        "responsible", "in charge", "who ran", "ran it", "who carried out", "carried out by", "who implemented",
        "who organised", "who organized", "who hosts", "hosted by",
    ),
    "partners": ("partners", "partner", "who else", "involved", "collaborators", "collaborate", "together with", "co-partners", "participants", "members"),
    "sources": (
        "source", "sources", "link", "links", "url", "website", "web page", "webpage", "read more", "reference",
        "references", "documentation", "check this", "verify", "proof", "where can i read", "where can i check",
        "where can i find out more", "more information", "more info",
    ),
    "contact": ("contact", "email", "e-mail", "phone", "reach them", "get in touch", "contact details", "address"),
    "type": ("what kind of organisation", "what kind of organization", "what type", "type of organisation", "type of organization", "kind of organisation", "kind of organization"),
    "focus": ("focus", "focus areas", "work on", "works on", "specialise", "specialize", "what do they do", "areas of work"),
    "themes": ("themes", "sector", "sectors", "field", "fields"),
}
# French, Russian and Arabic phrases for the same values (written by the team). Matching folds
# accents and "ё" and, in Arabic, unifies letter variants and drops the article with its clitics
# ("والتمويل" = "تمويل"), so each phrase is listed once per word form; Russian inflections are listed.
I18N_OPERATION: dict[str, tuple[str, ...]] = {
    "add": (
        "aussi", "également", "en plus", "ajoute", "ajouter", "ajoutez", "seulement", "uniquement", "juste",
        "limite", "limiter", "limite à", "restreins", "restreindre", "que les",
        "также", "тоже", "ещё", "еще", "добавь", "добавьте", "добавить", "плюс", "только", "лишь", "ограничь",
        "ограничить", "сузь", "сузить",
        "أيضا", "ايضا", "كمان", "أضف", "اضف", "ضيف", "زيد", "فقط", "بس", "حصرا", "حصرها", "احصر",
    ),
    "replace": (
        "plutôt", "plutot", "à la place", "au lieu de", "remplace", "remplacer", "remplacez", "change pour",
        "passe à", "passe aux", "passe au", "mets", "mettez", "prends",
        "вместо", "вместо этого", "лучше", "замени", "замените", "заменить", "поменяй", "поменять",
        "переключись на", "переключи на", "поставь", "поставьте", "возьми",
        "بدلا من", "بدل", "بدلها", "بدلا", "بدلا منها", "مكان", "خليها", "خليه", "حط", "استبدل", "غير إلى",
    ),
    "remove": (
        "enlève", "enlever", "enlevez", "supprime", "supprimer", "supprimez", "retire", "retirer", "retirez",
        "sans", "oublie", "oublier", "exclure", "exclus", "sauf", "ignore",
        "убери", "уберите", "убрать", "удали", "удалите", "удалить", "без", "исключи", "исключить", "исключите", "но не", "сними",
        "снять", "забудь про", "кроме",
        "احذف", "حذف", "شيل", "ازل", "أزل", "إزالة", "الغي", "ألغ", "الغ", "بدون", "من غير", "استبعد", "ما عدا",
        "باستثناء", "استثن", "عدا", "excepté", "à part", "hormis", "mais pas", "за исключением", "исключая", "помимо",
        "ولكن ليس", "لكن ليس",
    ),
    "clear": (
        "sans filtres", "sans filtre", "aucun filtre", "réinitialise", "réinitialiser", "efface tout",
        "tout effacer", "recommencer", "repartir de zéro", "tous les filtres",
        "без фильтров", "сбрось", "сбросить", "сбрось всё", "очисти фильтры", "все фильтры", "с нуля",
        "بدون فلاتر", "بدون فلتر", "امسح الفلاتر", "كل الفلاتر", "إعادة ضبط", "من الصفر",
    ),
    "list": (
        "quels filtres", "quel filtre", "filtres actifs", "filtres actuels", "mes filtres", "ma recherche",
        "qu'est-ce que je cherche", "quelle région est choisie",
        "какие фильтры", "какой фильтр", "текущие фильтры", "мои фильтры", "что я ищу", "какой регион выбран",
        "ما الفلاتر", "أي فلاتر", "شو الفلاتر", "فلاتر حالية", "فلاتري", "ما الذي أبحث عنه", "هل في فلاتر",
        "الفلاتر المفعلة", "الفلاتر المفعّلة", "ما هي الفلاتر", "الفلاتر الحالية", "عوامل التصفية المفعلة", "ما عوامل التصفية",
        "quels sont les filtres", "фильтры сейчас", "какие фильтры включены",
        "أي منطقة مختارة",
    ),
}
I18N_SCOPE: dict[str, tuple[str, ...]] = {
    "country": ("pays", "filtre pays", "страна", "страну", "страны", "стран", "фильтр страны", "фильтр по стране", "بلد", "دوله", "دولة", "بلدان", "فلتر البلد"),
    "region": ("région", "régions", "continent", "zone", "регион", "региона", "регионы", "регионов", "континент", "منطقة", "مناطق", "قارة"),
    "place": ("lieu", "endroit", "géographie", "место", "география", "местоположение", "مكان"),
    "sdg": ("odd", "objectif", "objectifs", "цур", "цель", "цели", "целей", "هدف", "أهداف", "اهداف"),
    "topic": ("sujet", "thème", "mot-clé", "mots-clés", "тема", "тему", "темы", "ключевое слово", "موضوع"),
    "all": ("filtres", "tout", "фильтры", "всё", "فلاتر", "كل شي", "كل شيء"),
    "filter": ("filtre", "ce filtre", "le filtre", "фильтр", "этот фильтр", "فلتر", "هذا الفلتر"),
}
I18N_COMBINED: dict[tuple[str, str], tuple[str, ...]] = {
    ("remove", "place"): (
        "partout", "dans le monde entier", "monde entier", "tous les pays", "toutes les régions",
        "n'importe quel pays", "n'importe où", "по всему миру", "везде", "во всем мире", "все страны",
        "все регионы", "любая страна", "любой регион", "любые страны", "في العالم كله", "العالم كله",
        "كل البلدان", "كل الدول", "كل المناطق", "أي بلد", "أي منطقة", "في كل مكان",
    ),
    ("remove", "sdg"): ("tous les odd", "n'importe quel odd", "tous les objectifs", "все цур", "любая цель", "все цели", "любые цур", "كل الأهداف", "أي هدف"),
}
I18N_ATTRIBUTE: dict[str, tuple[str, ...]] = {
    "start_year": (
        "commencé", "lancé", "début", "quelle année", "en quelle année", "depuis quand", "créé", "date",
        "начался", "начали", "запустили", "запущен", "в каком году", "какой год", "с какого года", "основан", "создан", "дата",
        "بدأ", "انطلق", "أطلق", "في أي سنة", "أي سنة", "منذ متى", "تأسس", "تاريخ",
        "ouvert", "inauguré", "fondé", "когда открыли", "открыли", "открыт", "открылся", "основали", "متى بدأ", "افتتح", "أسس",
    ),
    "duration": (
        "combien de temps", "durée", "a duré", "duré", "fin", "calendrier",
        "сколько длился", "длился", "длится", "продолжительность", "срок", "сроки", "закончился", "завершился",
        "كم استمر", "استمر", "مدة", "انتهى", "الجدول الزمني",
    ),
    "status": (
        "statut", "toujours en cours", "en cours", "encore actif", "actif", "fini", "terminé",
        "статус", "ещё действует", "еще действует", "действует", "продолжается", "активен", "закрыт",
        "حالة", "ما زال", "لا يزال", "مستمر", "قائم", "قائما", "نشط",
    ),
    "funders": (
        "financé", "finance", "financement", "financeur", "financeurs", "bailleur", "bailleurs", "payé",
        "sponsor", "argent", "qui a payé", "donateur",
        "финансировал", "финансировали", "финансирование", "финансирует", "спонсор", "донор", "доноры", "деньги",
        "кто платил", "платила", "платил",
        "soutient financièrement", "soutien financier", "qui paie", "qui paye", "кто оплачивает", "кто платит", "оплачивает",
        "مول", "موله", "تمويل", "ممول", "مانح", "مانحين", "دفع", "دفعت", "فلوس",
        "يمول", "يموله", "بيمول", "الممول", "الجهة الممولة",
    ),
    "results": (
        "résultats", "résultat", "impact", "a marché", "succès", "réussi", "bénéficiaires", "effets",
        "результаты", "результат", "сработало", "сработал", "успешно", "успех", "эффект", "влияние", "добился",
        "бенефициары",
        "نتائج", "نتائجه", "نجح", "ناجح", "ناجحا", "أثر", "حقق", "مستفيدين", "كم عدد", "combien de",
        "combien d'emplois", "combien de personnes", "сколько человек", "выпустилось", "выпускников", "كم امرأة", "كم شخص",
    ),
    "budget": (
        "coût", "coûté", "coute", "combien", "budget", "prix", "montant", "dépensé",
        "стоило", "стоимость", "сколько", "бюджет", "цена", "сумма", "потратили",
        "كم كلف", "كلف", "تكلفة", "ميزانية", "سعر", "مبلغ",
    ),
    "sdgs": ("quels odd", "odd", "objectifs", "quels objectifs", "цур", "какие цур", "какие цели", "цели", "каким цур", "أهداف", "أي أهداف", "هدف", "أي هدف"),
    "countries": (
        "quels pays", "pays", "mis en oeuvre", "basés", "basé", "situé", "reproduit", "répliqué", "utilisé ailleurs",
        "в каких странах", "страны", "где", "страна", "реализуется", "находятся", "тиражировали", "переняли",
        "أي بلدان", "أين", "وين", "بلدان", "ينفذ", "مقر", "مقرهم", "تكرار التجربة",
    ),
    "provider": (
        "fournisseur", "fournit", "qui gère", "qui est derrière", "derrière", "mis en oeuvre par", "porteur", "responsable",
        "mis en œuvre par", "qui l'a mis en œuvre", "qui met en œuvre", "qui l'a mis en oeuvre", "qui l'a présenté", "présenté par",
        "поставщик", "предоставляет", "кто стоит за", "кто реализует", "реализует", "ответственный", "какая организация",
        "кто реализовал", "реализовал", "кто проводит", "кто организовал",
        "مزود", "يقدمه", "تقدمه", "من وراء", "جهة منفذة", "مسؤول", "أي منظمة",
        "ينفذه", "من ينفذه", "الجهة المنفذة", "منفذ",
    ),
    "partners": (
        "partenaires", "partenaire", "impliqués", "collaborateurs",
        "партнеры", "партнеров", "партнер", "участвуют", "участники",
        "شركاء", "مشاركون", "شريك",
    ),
    "sources": ("lien", "site", "site web", "source", "sources", "plus d'infos", "ссылка", "ссылку", "сайт", "источник", "источники", "رابط", "موقع", "موقع إلكتروني", "مصدر", "مصادر"),
    "contact": (
        "contact", "personne de contact", "téléphone", "joindre",
        "контакт", "контактное лицо", "почта", "телефон", "связаться",
        "تواصل", "للتواصل", "اتصال", "إيميل", "هاتف",
    ),
}
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_ARABIC_MARKS = re.compile(r"[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
_ARABIC_ARTICLE = re.compile(r"^(?:[وف]?[بك]?ال|[وف]?لل)(?=..)")


def _word(token: str) -> str:
    """The comparison form of one token: lower case, accents and "ё" folded; Arabic letter
    variants unified and the article with its clitics dropped. English words are unchanged."""
    token = token.lower().replace("’", "'")
    if _ARABIC.search(token):
        return _ARABIC_ARTICLE.sub("", _ARABIC_MARKS.sub("", token).translate(_ARABIC_LETTERS))
    decomposed = unicodedata.normalize("NFKD", token.replace("ё", "е"))
    return "".join(c for c in decomposed if not unicodedata.combining(c) or c == "\u0306")  # keep "й"


# A filter value the user moves away from: "instead of Africa", "not Kenya but", "remove SDG 5".
_OLD_CUE = re.compile(
    r"(?:\binstead\s+of|\brather\s+than|\bnot|\bno\s+longer|\bno\s+more|\bexcept|\bother\s+than|\bexcluding|\bwithout"
    r"|\bremove|\bdrop|\bforget|\bforget\s+about|\bdelete|\btake\s+(?:away|off|out)|\bget\s+rid\s+of|\bditch|\blose"
    r"|\bignore|\bleave\s+out|\bswap|\breplace|\bchange|\bswitch|\bhide|\bneither|\bfilter\s+out|\brule\s+out)"
    r"(?:\s+(?:the|that|this|my|in|of|a|an|from|ones?|those|everything|stuff|projects?|solutions?|partners?))*\s*$"
    # a bare "no" right before the place, opening the message or a clause: "no Egypt", "Kenya yes, but no Uganda"
    # ("are there no projects in Kenya?" asks, it does not exclude)
    r"|(?:^|[,.;:!]|\bbut|\band|\bplease)\s*no\s+$",
    re.IGNORECASE,
)
# "from Kenya to Uganda" moves away from Kenya; "anything from Kyrgyzstan?" is where the work is
_FROM_CUE = re.compile(r"\bfrom(?:\s+(?:the|that|this|my|in|of|a|an))*\s*$", re.IGNORECASE)
_TO_AFTER = re.compile(r"^[\w\s'’-]{0,30}?\b(?:to|into)\b", re.IGNORECASE)
# The same in French, Russian and Arabic ("au lieu de l'Afrique", "не Африка, а Азия", "بدلا من أفريقيا").
_OLD_CUE_I18N = re.compile(
    r"(?:\bau\s+lieu\s+d[e']?|\bplut[oô]t\s+que|\bpas|\bsauf|\bsans|\benl[eè]ve[zr]?|\bsupprime[zr]?|\bretire[zr]?"
    r"|\bremplace[zr]?|\bexcept[ée]|\bhors"
    r"|(?<!\w)вместо|(?<!\w)не|(?<!\w)кроме|(?<!\w)без|(?<!\w)убери(?:те)?|(?<!\w)удали(?:те)?|(?<!\w)исключи(?:те)?"
    r"|(?<!\w)замени(?:те)?|(?<!\w)поменяй(?:те)?"
    r"|(?<!\w)بدلا\s+(?:من|عن)|(?<!\w)بدل|(?<!\w)مش|(?<!\w)مو|(?<!\w)ليس|(?<!\w)بدون|(?<!\w)من\s+غير|(?<!\w)غير"
    r"|(?<!\w)احذف|(?<!\w)شيل|(?<!\w)[اأ]زل|(?<!\w)الغي|(?<!\w)ما\s+عدا|(?<!\w)عدا|(?<!\w)استبدل)"
    r"(?:\s+(?:le|la|les|l'|du|de|des|d'|en|au|aux|в|на|из|с|для|في|من))*\s*(?:l'|d')?$",
    re.IGNORECASE,
)
ROLE_ENTITIES = ("country", "region", "sdg")


# Arabic diacritics (shadda, harakat) are no word boundary: "موّل" is one word, read as "مول".
_TOKEN = re.compile(r"[\w'’\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed-]+")


def _phrase_tables() -> dict[str, dict[tuple[str, ...], str]]:
    """label -> {phrase tokens: value}; a combined phrase is filed under "operation+scope"."""
    tables: dict[str, dict[tuple[str, ...], str]] = {}
    for label, table in (("operation", OPERATION), ("scope", SCOPE), ("attribute", ATTRIBUTE)):
        for value, phrases in table.items():
            for phrase in phrases:
                tables.setdefault(label, {})[tuple(_TOKEN.findall(phrase.lower()))] = value
    for (operation, scope), phrases in COMBINED.items():
        for phrase in phrases:
            tables.setdefault("operation+scope", {})[tuple(_TOKEN.findall(phrase.lower()))] = f"{operation}+{scope}"
    # French, Russian and Arabic after the English, which keep their values where a form is shared
    for label, table in (("operation", I18N_OPERATION), ("scope", I18N_SCOPE), ("attribute", I18N_ATTRIBUTE)):
        for value, phrases in table.items():
            for phrase in phrases:
                tables[label].setdefault(tuple(_word(t) for t in _TOKEN.findall(phrase)), value)
    for (operation, scope), phrases in I18N_COMBINED.items():
        for phrase in phrases:
            tables["operation+scope"].setdefault(tuple(_word(t) for t in _TOKEN.findall(phrase)), f"{operation}+{scope}")
    return tables


_TABLES = _phrase_tables()
_LONGEST = max(len(p) for table in _TABLES.values() for p in table)


def closed_entities(text: str) -> list[dict[str, Any]]:
    """Every operation, scope and attribute phrase in the text: per label the longest phrase wins and
    phrases of one label never overlap; different labels may share words ("country" is a scope and an
    attribute: which one counts is the intent's business)."""
    tokens = [(_word(m.group(0)), m.start(), m.end()) for m in _TOKEN.finditer(text[:5000])]
    words = [t[0] for t in tokens]
    found: list[dict[str, Any]] = []
    combined_spans: list[tuple[int, int]] = []
    for label in ("operation+scope", "operation", "scope", "attribute"):
        table, i = _TABLES[label], 0
        while i < len(tokens):
            for size in range(min(_LONGEST, len(tokens) - i), 0, -1):
                value = table.get(tuple(words[i : i + size]))
                if value is None:
                    continue
                start, end = tokens[i][1], tokens[i + size - 1][2]
                if label == "operation+scope":
                    combined_spans.append((start, end))
                elif label in ("operation", "scope") and any(s < end and start < e for s, e in combined_spans):
                    break  # already read as an operation and a scope together
                found += expand(label, value, start, end)
                i += size - 1
                break
            i += 1
    return sorted(found, key=lambda e: (e["start"], e["entity"]))


def expand(label: str, value: str, start: int, end: int) -> list[dict[str, Any]]:
    """The entities one phrase stands for."""
    if label == "operation+scope":
        operation, scope = value.split("+")
        return [
            {"entity": "operation", "value": operation, "start": start, "end": end},
            {"entity": "scope", "value": scope, "start": start, "end": end},
        ]
    return [{"entity": label, "value": value, "start": start, "end": end}]


# What joins two places said under one "not": "not Egypt or Morocco", "neither Egypt nor Morocco", "pas
# l'Égypte ni le Maroc", "ليس مصر أو المغرب" (a bare comma does not: "not Kenya, Uganda" corrects Kenya).
_JOINED = re.compile(
    r"\s*,?\s*(?:or|nor|and|ou|ni|et|или|ни|и|либо|أو|او|ولا|و)\s*(?:(?:not|pas|не)\s+)?(?:(?:the|le|la|les|l['’])\s*)?",
    re.IGNORECASE,
)
_JOINED_CLITIC = re.compile(r"\s*(?:و|ولا\s)")  # Arabic "و" written onto the next name ("مصر والمغرب")


def assign_roles(text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Marks a country, region or SDG mention the user moves away from with role `old`, and the places
    joined to it by "or", "nor", "and": "not Egypt or Morocco" leaves out both."""
    previous: dict[str, Any] | None = None
    for entity in sorted((e for e in entities if isinstance(e.get("start"), int)), key=lambda e: e["start"]):
        if entity.get("entity") not in ROLE_ENTITIES:
            continue
        before = text[max(0, entity["start"] - 40) : entity["start"]]
        moving_from = _FROM_CUE.search(before) and "end" in entity and _TO_AFTER.match(text[entity["end"] :])
        joined = (
            previous is not None and previous.get("role") == "old" and previous.get("entity") == entity.get("entity")
            and isinstance(previous.get("end"), int) and previous["end"] <= entity["start"]
            and (_JOINED.fullmatch(gap := text[previous["end"] : entity["start"]]) or (_ARABIC.search(text[entity["start"] : entity["start"] + 1]) and _JOINED_CLITIC.match(gap + text[entity["start"] : entity["start"] + 4])))
        )
        if _OLD_CUE.search(before) or _OLD_CUE_I18N.search(before) or moving_from or joined:
            entity["role"] = "old"
        previous = entity
    return entities
