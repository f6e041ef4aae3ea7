"""Writes knowledge/data/subregions.json. The UN M49 sub-regions are read from the country table that the
country_converter package ships (country_converter 1.3.2: `pip download country_converter==1.3.2 --no-deps`,
unzip, and pass country_converter/country_data.tsv); the other groupings are listed here with their source.

    python scripts/build_subregions.py path/to/country_data.tsv
"""
import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8"), delimiter="\t"))
m49 = {}
for r in rows:
    if r['obsolete'] or not r['ISO3'] or len(r['ISO3']) != 3 or r['ISO3'] in ('SUN', 'EAT', 'EAZ'):
        continue
    m49.setdefault(r['UNregion'], []).append(r['ISO3'])
divisions = json.load(open(ROOT / 'knowledge/data/divisions.json', encoding='utf-8'))['divisions']
div_of = {c: k for k, cs in divisions.items() for c in cs}
def inhabited(codes):  # keep the countries and territories a division covers
    return sorted(c for c in codes if c in div_of)

M49 = "UN M49 geographic regions, https://unstats.un.org/unsd/methodology/m49/ (read from the table of country_converter 1.3.2)"
S = []
def add(key, division, labels, aliases, countries, source):
    S.append({"key": key, "division": division, "labels": dict(zip(("en", "fr", "ru", "ar"), labels)), "aliases": aliases, "countries": sorted(countries), "source": source})

add("west_africa", "africa", ("West Africa", "Afrique de l'Ouest", "Западная Африка", "غرب أفريقيا"),
    {"en": ["West Africa", "Western Africa", "West African", "ECOWAS region", "ECOWAS countries"], "fr": ["Afrique de l'Ouest", "Afrique occidentale", "ouest-africain", "ouest-africaine", "ouest-africains", "ouest-africaines"], "ru": ["западн* африк*"], "ar": ["غرب أفريقيا", "غرب إفريقيا", "غرب افريقيا"]},
    inhabited(m49["Western Africa"]), M49)
add("east_africa", "africa", ("East Africa", "Afrique de l'Est", "Восточная Африка", "شرق أفريقيا"),
    {"en": ["East Africa", "Eastern Africa", "East African"], "fr": ["Afrique de l'Est", "Afrique orientale", "est-africain", "est-africaine"], "ru": ["восточн* африк*"], "ar": ["شرق أفريقيا", "شرق إفريقيا", "شرق افريقيا"]},
    inhabited(m49["Eastern Africa"]), M49)
add("central_africa", "africa", ("Central Africa", "Afrique centrale", "Центральная Африка", "وسط أفريقيا"),
    {"en": ["Central Africa", "Middle Africa", "Central African region"], "fr": ["Afrique centrale"], "ru": ["центральн* африк*"], "ar": ["وسط أفريقيا", "وسط إفريقيا", "وسط افريقيا"]},
    inhabited(m49["Middle Africa"]), M49)
add("southern_africa", "africa", ("Southern Africa", "Afrique australe", "юг Африки", "الجنوب الأفريقي"),
    {"en": ["Southern Africa", "Southern African"], "fr": ["Afrique australe"], "ru": ["юг* африк*", "южн* част* африк*"], "ar": ["الجنوب الأفريقي", "جنوب القارة الأفريقية", "الجنوب الإفريقي"]},
    inhabited(m49["Southern Africa"]), M49)
add("north_africa", "arab_states", ("North Africa", "Afrique du Nord", "Северная Африка", "شمال أفريقيا"),
    {"en": ["North Africa", "Northern Africa", "North African"], "fr": ["Afrique du Nord", "nord-africain", "nord-africaine"], "ru": ["северн* африк*"], "ar": ["شمال أفريقيا", "شمال إفريقيا", "شمال افريقيا"]},
    inhabited(m49["Northern Africa"]), M49)
add("horn_of_africa", "africa", ("the Horn of Africa", "la Corne de l'Afrique", "Африканский Рог", "القرن الأفريقي"),
    {"en": ["Horn of Africa"], "fr": ["Corne de l'Afrique"], "ru": ["африканск* рог*"], "ar": ["القرن الأفريقي", "القرن الإفريقي", "منطقة القرن الأفريقي"]},
    ["DJI", "ERI", "ETH", "SOM"], "Djibouti, Eritrea, Ethiopia and Somalia, the Horn of Africa in its narrow sense")
add("sahel", "africa", ("the Sahel", "le Sahel", "Сахель", "منطقة الساحل"),
    {"en": ["Sahel", "Sahel region", "Sahelian countries", "Sahelian"], "fr": ["Sahel", "sahélien", "sahélienne", "sahéliens", "sahéliennes"], "ru": ["сахел*"], "ar": ["الساحل الأفريقي", "منطقة الساحل", "الساحل والصحراء", "دول الساحل"]},
    ["BFA", "CMR", "GIN", "GMB", "MLI", "MRT", "NER", "NGA", "SEN", "TCD"], "The ten countries of the UN Integrated Strategy for the Sahel (UNISS)")
add("lake_chad_basin", "africa", ("the Lake Chad Basin", "le bassin du lac Tchad", "бассейн озера Чад", "حوض بحيرة تشاد"),
    {"en": ["Lake Chad Basin", "Lake Chad region"], "fr": ["bassin du lac Tchad"], "ru": ["бассейн* озера чад"], "ar": ["حوض بحيرة تشاد"]},
    ["CMR", "NER", "NGA", "TCD"], "The four countries of the Lake Chad Basin that border the lake")
add("maghreb", "arab_states", ("the Maghreb", "le Maghreb", "Магриб", "المغرب العربي"),
    {"en": ["Maghreb", "Maghreb countries", "Arab Maghreb"], "fr": ["Maghreb", "maghrébin", "maghrébine", "maghrébins", "maghrébines"], "ru": ["магриб*"], "ar": ["المغرب العربي", "دول المغرب العربي", "بلدان المغرب العربي"]},
    ["DZA", "LBY", "MAR", "MRT", "TUN"], "Members of the Arab Maghreb Union (Treaty of Marrakesh, 1989)")
add("gulf", "arab_states", ("the Gulf", "le Golfe", "страны Залива", "الخليج"),
    {"en": ["Gulf countries", "Gulf states", "Gulf region", "GCC countries", "GCC states", "GCC region", "Arab Gulf", "Gulf Cooperation Council"], "fr": ["pays du Golfe", "États du Golfe", "Etats du Golfe", "région du Golfe", "CCG"], "ru": ["стран* залива", "стран* персидского залива", "стран* ССАГПЗ", "ССАГПЗ"], "ar": ["دول الخليج", "الخليج العربي", "دول مجلس التعاون", "مجلس التعاون الخليجي", "منطقة الخليج"]},
    ["ARE", "BHR", "KWT", "OMN", "QAT", "SAU"], "Members of the Gulf Cooperation Council (https://www.gcc-sg.org)")
add("arabian_peninsula", "arab_states", ("the Arabian Peninsula", "la péninsule arabique", "Аравийский полуостров", "شبه الجزيرة العربية"),
    {"en": ["Arabian Peninsula"], "fr": ["péninsule arabique"], "ru": ["аравийск* полуостров*"], "ar": ["شبه الجزيرة العربية"]},
    ["ARE", "BHR", "KWT", "OMN", "QAT", "SAU", "YEM"], "The states of the Arabian Peninsula (the Gulf Cooperation Council's members and Yemen)")
add("mashreq", "arab_states", ("the Mashreq", "le Machrek", "Машрик", "المشرق العربي"),
    {"en": ["Mashreq", "Mashriq", "Levant", "Levantine countries"], "fr": ["Machrek", "Levant"], "ru": ["машрик*", "левант*"], "ar": ["المشرق العربي", "بلاد الشام", "دول المشرق"]},
    ["EGY", "IRQ", "JOR", "LBN", "PSE", "SYR"], "The Mashreq as ESCWA groups its members (https://www.unescwa.org)")
add("south_asia", "asia_pacific", ("South Asia", "Asie du Sud", "Южная Азия", "جنوب آسيا"),
    {"en": ["South Asia", "South Asian", "Southern Asia", "Indian subcontinent"], "fr": ["Asie du Sud", "Asie méridionale", "sud-asiatique"], "ru": ["южн* ази*"], "ar": ["جنوب آسيا"]},
    inhabited(m49["Southern Asia"]), M49)
add("southeast_asia", "asia_pacific", ("South-East Asia", "Asie du Sud-Est", "Юго-Восточная Азия", "جنوب شرق آسيا"),
    {"en": ["Southeast Asia", "South-East Asia", "South East Asia", "South-eastern Asia", "Southeast Asian", "ASEAN countries", "ASEAN region"], "fr": ["Asie du Sud-Est", "pays de l'ASEAN", "pays de l'ANASE"], "ru": ["юго-восточн* ази*", "юго восточн* ази*", "стран* АСЕАН"], "ar": ["جنوب شرق آسيا", "جنوب شرقي آسيا", "دول آسيان"]},
    inhabited(m49["South-eastern Asia"]), M49)
add("east_asia", "asia_pacific", ("East Asia", "Asie de l'Est", "Восточная Азия", "شرق آسيا"),
    {"en": ["East Asia", "Eastern Asia", "East Asian", "Northeast Asia"], "fr": ["Asie de l'Est", "Asie orientale", "Asie du Nord-Est"], "ru": ["восточн* ази*", "северо-восточн* ази*"], "ar": ["شرق آسيا", "شمال شرق آسيا"]},
    inhabited(m49["Eastern Asia"]), M49)
add("mekong", "asia_pacific", ("the Mekong region", "la région du Mékong", "регион Меконга", "منطقة الميكونغ"),
    {"en": ["Mekong", "Mekong region", "Greater Mekong", "Mekong countries", "Lower Mekong"], "fr": ["région du Mékong", "pays du Mékong", "Grand Mékong"], "ru": ["меконг*"], "ar": ["منطقة الميكونغ", "حوض نهر ميكونغ", "دول الميكونغ"]},
    ["KHM", "LAO", "MMR", "THA", "VNM"], "The Lower Mekong countries of the Mekong-Lancang and Mekong River Commission groupings (https://www.mrcmekong.org)")
add("pacific", "asia_pacific", ("the Pacific islands", "les îles du Pacifique", "тихоокеанские острова", "جزر المحيط الهادئ"),
    {"en": ["the Pacific", "Pacific", "Pacific islands", "Pacific Island countries", "Pacific island states", "Pacific region", "Pacific SIDS", "Melanesia", "Polynesia", "Melanesian", "Polynesian", "South Pacific", "Oceania"], "fr": ["Pacifique", "Océanie", "îles du Pacifique", "États insulaires du Pacifique", "Mélanésie", "Polynésie"], "ru": ["тихоокеанск* остров*", "тихоокеанск* регион*", "тихоокеанск* стран*", "остров* тихого океана", "океани*", "меланези*", "полинези*"], "ar": ["المحيط الهادئ", "المحيط الهادي", "جزر المحيط الهادئ", "جزر المحيط الهادي", "أوقيانوسيا"]},
    inhabited(m49["Melanesia"] + m49["Micronesia"] + m49["Polynesia"]), M49 + ": Melanesia, Micronesia and Polynesia")
add("central_asia", "europe_cis", ("Central Asia", "Asie centrale", "Центральная Азия", "آسيا الوسطى"),
    {"en": ["Central Asia", "Central Asian"], "fr": ["Asie centrale", "centrasiatique", "centrasiatiques"], "ru": ["центральн* ази*", "средн* ази*"], "ar": ["آسيا الوسطى", "وسط آسيا"]},
    inhabited(m49["Central Asia"]), M49)
add("south_caucasus", "europe_cis", ("the South Caucasus", "le Caucase du Sud", "Южный Кавказ", "جنوب القوقاز"),
    {"en": ["South Caucasus", "Southern Caucasus", "Caucasus", "Transcaucasia"], "fr": ["Caucase du Sud", "Caucase", "Transcaucasie"], "ru": ["южн* кавказ*", "закавказ*", "кавказ*"], "ar": ["جنوب القوقاز", "القوقاز"]},
    ["ARM", "AZE", "GEO"], "Armenia, Azerbaijan and Georgia, as the UN system's South Caucasus programmes group them")
add("western_balkans", "europe_cis", ("the Western Balkans", "les Balkans occidentaux", "Западные Балканы", "غرب البلقان"),
    {"en": ["Western Balkans", "West Balkans"], "fr": ["Balkans occidentaux", "Balkans de l'Ouest"], "ru": ["западн* балкан*"], "ar": ["غرب البلقان"]},
    ["ALB", "BIH", "MKD", "MNE", "SRB", "XKX"], "The Western Balkans as the European Union's enlargement policy names them")
add("eastern_europe", "europe_cis", ("Eastern Europe", "Europe de l'Est", "Восточная Европа", "أوروبا الشرقية"),
    {"en": ["Eastern Europe", "East European", "Eastern European"], "fr": ["Europe de l'Est", "Europe orientale"], "ru": ["восточн* европ*"], "ar": ["أوروبا الشرقية", "شرق أوروبا"]},
    inhabited(m49["Eastern Europe"]), M49)
add("caribbean", "latin_america_caribbean", ("the Caribbean", "les Caraïbes", "Карибский бассейн", "منطقة البحر الكاريبي"),
    {"en": ["Caribbean", "Carribean", "Caribean", "Carribbean", "Caribbean region", "Caribbean islands", "Caribbean SIDS", "CARICOM countries"], "fr": ["Caraïbes", "Caraïbe", "caribéen", "caribéenne", "caribéens", "caribéennes"], "ru": ["карибск*", "карибы", "карибах"], "ar": ["البحر الكاريبي", "منطقة الكاريبي", "الكاريبي"]},
    inhabited(m49["Caribbean"]), M49)
add("central_america", "latin_america_caribbean", ("Central America", "Amérique centrale", "Центральная Америка", "أمريكا الوسطى"),
    {"en": ["Central America", "Central American", "Mesoamerica"], "fr": ["Amérique centrale", "centraméricain", "centraméricaine", "Mésoamérique"], "ru": ["центральн* америк*"], "ar": ["أمريكا الوسطى", "امريكا الوسطى"]},
    inhabited(m49["Central America"]), M49)
add("south_america", "latin_america_caribbean", ("South America", "Amérique du Sud", "Южная Америка", "أمريكا الجنوبية"),
    {"en": ["South America", "South American"], "fr": ["Amérique du Sud", "sud-américain", "sud-américaine"], "ru": ["южн* америк*"], "ar": ["أمريكا الجنوبية", "امريكا الجنوبية"]},
    inhabited(m49["South America"]), M49)
add("andean", "latin_america_caribbean", ("the Andean countries", "les pays andins", "андские страны", "دول الأنديز"),
    {"en": ["Andean region", "Andean countries", "Andes", "Andean Community"], "fr": ["pays andins", "région andine", "Andes"], "ru": ["андск*"], "ar": ["الأنديز", "دول الأنديز"]},
    ["BOL", "COL", "ECU", "PER"], "Members of the Andean Community (https://www.comunidadandina.org)")
add("amazon", "latin_america_caribbean", ("the Amazon region", "la région amazonienne", "Амазония", "منطقة الأمازون"),
    {"en": ["Amazon", "Amazon region", "Amazon basin", "Amazonia", "Amazonian countries"], "fr": ["Amazonie", "bassin amazonien", "région amazonienne"], "ru": ["амазони*", "бассейн* амазонки"], "ar": ["الأمازون", "حوض الأمازون", "منطقة الأمازون"]},
    ["BOL", "BRA", "COL", "ECU", "GUY", "PER", "SUR", "VEN"], "Members of the Amazon Cooperation Treaty Organization (http://otca.org)")
add("southern_cone", "latin_america_caribbean", ("the Southern Cone", "le Cône Sud", "Южный конус", "المخروط الجنوبي"),
    {"en": ["Southern Cone"], "fr": ["Cône Sud"], "ru": ["южн* конус*"], "ar": ["المخروط الجنوبي"]},
    ["ARG", "CHL", "PRY", "URY"], "Argentina, Chile, Paraguay and Uruguay, as the Southern Cone is usually counted")

for s in S:
    assert s["countries"], s["key"]
    bad = [c for c in s["countries"] if c not in div_of and c != "XKX"]
    assert not bad, (s["key"], bad)
extra_divisions = {"arab_states": {"fr": ["Moyen-Orient et Afrique du Nord"], "ru": ["Ближний Восток и Северная Африка"], "ar": ["الشرق الأوسط وشمال أفريقيا", "الشرق الأوسط وشمال إفريقيا"]}}
out = {"division_names": extra_divisions, "about": "Sub-regions users name inside the five UNOSSC divisions ('West Africa', 'Central Asia', 'the Gulf'): each with the division its NLU region entity carries, its names in en/fr/ru/ar (`division_names`: longer names of a division that contain a sub-region's name, beside the division names the NLU knows) (a trailing * in ru is an inflected ending), and the countries a filter on it keeps. Countries from the source given per sub-region; labels in fr/ru/ar as the UN's M49 translations and common usage write them.", "subregions": S}
json.dump(out, open(ROOT / 'knowledge/data/subregions.json', 'w', encoding='utf-8'), ensure_ascii=False, indent=1)
print(len(S), "written"); print({s['key']: len(s['countries']) for s in S})
