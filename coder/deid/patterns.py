"""Regular expressions for the identifiers Presidio's defaults miss or mislabel.

Pure ``re`` (no Presidio), so they can be tested alone. Each entry of :data:`PATTERNS` is
``(type, compiled regex, score)``; when the regex has a group named ``v`` only that group is
the identifier (``Dr. Rivera`` → ``Rivera``, ``MRN 00482913`` → ``00482913``).
"""

from __future__ import annotations

import re

MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|December"
          "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec")
_MONTH = rf"(?:{MONTHS})\.?"
_ORD_WORDS = ("first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth"
              "|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|thirtieth"
              "|twenty-(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)|thirty-first")
_DAY = rf"(?:[0-3]?\d(?:st|nd|rd|th)?|(?i:{_ORD_WORDS}))"
_YEAR = r"(?:1[89]\d\d|20\d\d)"

#: A DATE_TIME span from spaCy counts as a date only when it names a calendar date.
SPECIFIC_DATE = re.compile(
    rf"\b{_MONTH}(?!\w)|\b\d{{1,4}}[/.\-]\d{{1,2}}(?:[/.\-]\d{{2,4}})?\b|\b\d{{1,2}}(?:st|nd|rd|th)\b"
    rf"|(?i:\bthe\s+(?:{_ORD_WORDS})\b)"
)
#: Prepositions that make a lone month name a date ("in May", not "May I ask").
MONTH_CONTEXT = re.compile(r"(?i:\b(?:in|since|until|till|by|of|last|next|this|early|late|mid|during|before|after"
                           r"|around|from|through|end of|start of|beginning of)\s*-?\s*)$")

_TITLE = (r"(?:Dr|Doctor|Mr|Mrs|Ms|Miss|Mx|Prof|Professor|Pastor|Father|Rabbi|Imam|Reverend|Rev|Nurse|Coach"
          r"|Officer|Detective|Det|Sergeant|Sgt|Captain|Lieutenant|Deacon|Judge|Auntie|Aunt|Uncle|Grandma|Grandpa"
          r"|Nana|Granny|Sister|Brother)")
_UP = "A-ZÀ-ÖØ-ÞĀĂĄĆČĎĐĒĖĘĚĞĢĪĮİĶĹĻĽŁŃŅŇŌŐŒŔŘŚŞŠŢŤŪŮŰŲŹŻŽ"
_CAP = rf"[{_UP}](?:[^\W\d_]|['’\-](?=[^\W\d_]))*[^\W\d_{_UP}](?:[^\W\d_]|['’\-](?=[^\W\d_]))*"
_NAME = rf"{_CAP}(?:\s+(?:(?:van|von|de|del|da|di|le|la|bin|al|el)\s+)?{_CAP})?"
_RELATIONS = (r"son|daughter|husband|wife|partner|boyfriend|girlfriend|fianc[ée]e?|brother|sister|mom|mum|mother"
              r"|dad|father|friend|best friend|boss|manager|coworker|co-worker|colleague|neighbou?r|roommate"
              r"|flatmate|cousin|niece|nephew|aunt|auntie|uncle|grandson|granddaughter|grandmother|grandfather"
              r"|grandma|grandpa|stepdad|stepmom|stepmum|stepson|stepdaughter|ex|ex-wife|ex-husband|sponsor"
              r"|teacher|therapist|doctor|psychiatrist|caseworker|social worker|supervisor|kid|child|baby|twin"
              r"|oldest|youngest|middle one|little one|eldest|mother-in-law|father-in-law|sister-in-law"
              r"|brother-in-law|landlord|lawyer|pastor|coach|dog|cat")
#: Capitalised words the name patterns must not take as names.
NOT_NAMES = frozenset("""
I I'm I've I'd I'll And But So Or The A An He She They We You It That This There Then When What Why How Who
Yes No Yeah Okay OK Oh Well Just Like Maybe Also Because If Mom Mum Dad Mommy Daddy God Jesus Christmas Easter
Monday Tuesday Wednesday Thursday Friday Saturday Sunday Today Tomorrow Yesterday Thanks Sorry Hi Hello Um Uh
Email Text Call Phone Mm Hmm Mm-hmm Uh-huh Uh-uh Um-hmm Huh Wow Where Which Whatever Whoever Oops Ah Aw Gosh
Mr Mrs Ms Miss Mx Dr Gran Granny Nana Grandma Grandpa Auntie Sir Madam
Right Sure Really Still Even Now Here Not Never Always Sometimes Anyway Actually Honestly Basically
""".split())

_ADDR_SUFFIX = (r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Court|Ct|Place|Pl|Way|Terrace"
                r"|Circle|Highway|Hwy|Parkway|Pkwy|Close|Crescent|Square|Trail|Row|Gardens|Grove|Mews|Alley|Loop"
                r"|Pike|Plaza)")
_STREET = rf"(?:(?:[NSEW]\.?|North|South|East|West)\s+)?(?:(?:{_CAP}|\d+(?:st|nd|rd|th))\s+){{1,3}}{_ADDR_SUFFIX}\b\.?"
_UNIT = r"(?:,?\s*(?i:apt|apartment|unit|suite|ste|flat|#)\.?\s*#?[0-9]+[A-Za-z]?\b)?"
_ID_WORDS = (r"MRN|medical record(?: number)?|record number|chart number|patient (?:ID|number)|member (?:ID|number)"
             r"|ID number|ID|policy number|case number|claim number|account number|insurance (?:ID|number)"
             r"|licen[cs]e number|NHS number|social security(?: number)?|SSN|student (?:ID|number)|employee (?:ID|number)"
             r"|badge number|file number|reference number|ref|confirmation number|passport number|booking number"
             r"|prescription number|Rx number|incident number|booking number|Medicare number|Medicaid number")
_AGE_WORDS = (r"ninety(?:[\s-](?:one|two|three|four|five|six|seven|eight|nine))?|(?:a|one)\s+hundred(?:\s+and\s+"
              r"(?:one|two|three|four|five))?")
_AGE_NUM = rf"(?:9\d|1[01]\d|{_AGE_WORDS})"

PATTERNS: list[tuple[str, re.Pattern, float]] = [
    # names
    ("NAME", re.compile(rf"\b{_TITLE}\.?\s+(?P<v>{_NAME})"), 0.95),
    ("NAME", re.compile(rf"(?i:\b(?:my|our|your|his|her|their)\s+(?:(?:little|big|older|younger|new|old|best|"
                        rf"late|oldest|youngest|twin)\s+)?(?:{_RELATIONS})s?),?\s+(?P<v>{_NAME})"), 0.9),
    ("NAME", re.compile(rf"(?i:\b(?:my name is|name's|named|call me|called|goes by|go by|ask for|this is)\s+)"
                        rf"(?P<v>{_NAME})"), 0.9),
    ("NAME", re.compile(rf"\b(?P<v>{_CAP})\s+and\s+(?:I|me)\b|(?i:\bme\s+and\s+)(?P<w>{_CAP})"), 0.6),
    ("NAME", re.compile(rf"(?<![.!?]\s)(?<!^)\b(?P<v>{_CAP})\s+(?:said|says|told|asked|thinks|texted|called|"
                        r"yelled|wants|keeps|came|left|moved|was|is|talked|talks|mentioned|shared|cried|laughed|died|passed|"
                        r"went|goes|got|gets|had|has|did|does|helped|helps|showed|brought|wrote|sent|texts|calls)\b"), 0.55),
    # places named after verbs of living and moving ("we moved to Tucson", "grew up in Lagos")
    ("LOCATION", re.compile(rf"(?i:\b(?:live|lives|living|lived|moved|moving|move|grew up|born|raised|stay|stays|"
                            r"staying|stayed|visit|visiting|visited|drove|drive|driving|flew|fly|flying|relocated?|"
                            r"commute|commuting|came|come|coming|fled|escaped|emigrated|immigrated|back home|transferred|"
                            r"went back|going back|trip|apartment|house|"
                            r"place|job|office|clinic|hospital|shelter|school|college)\s+(?:back\s+|all the way\s+|"
                            r"out\s+|up\s+|down\s+|over\s+)?(?:in|to|from|near|at|outside|outside of)\s+)"
                            rf"(?P<v>{_CAP}(?:\s+{_CAP}){{0,2}})"), 0.88),
    ("LOCATION", re.compile(rf"(?i:\b(?:i'm|i am|we're|we are|he's|she's|they're|is|are|originally|family is)\s+"
                            rf"(?:originally\s+)?from\s+)(?P<v>{_CAP}(?:\s+{_CAP}){{0,2}})"), 0.88),
    # street addresses, PO boxes, ZIP and post codes
    ("ADDRESS", re.compile(rf"\b\d{{1,5}}[A-Za-z]?\s+{_STREET}{_UNIT}"), 0.9),
    ("ADDRESS", re.compile(rf"(?:(?<=\bon )|(?<=\boff )|(?<=\bat )|(?<=\bnear )|(?<=\bdown )|(?<=\bof ))"
                           rf"(?:the\s+)?{_STREET}"), 0.7),
    ("ADDRESS", re.compile(r"(?i:\bP\.?\s?O\.?\s+Box\s+\d+)"), 0.9),
    ("ADDRESS", re.compile(r"\b(?:Route|Highway|Hwy|Interstate|I-|State Road|County Road|Rte\.?)\s?\d{1,3}[A-Z]?\b"),
     0.8),
    ("ADDRESS", re.compile(r"(?i:\b(?:apt|apartment|unit|suite|flat)\.?\s*#?\s*\d+[A-Za-z]?\b)"), 0.6),
    ("ADDRESS", re.compile(r"\b[A-Z]{2}\s+(?P<v>\d{5}(?:-\d{4})?)\b"), 0.8),
    ("ADDRESS", re.compile(r"(?i:\b(?:zip|zip code|postcode|post code|postal code)\s*(?:is|was|:)?\s*)"
                           r"(?P<v>\d{5}(?:-\d{4})?|[A-Za-z]{1,2}\d[A-Za-z\d]?\s*\d[A-Za-z]{2})\b"), 0.9),
    ("ADDRESS", re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s+\d[A-Z]{2}\b"), 0.8),
    # record, account and other ID numbers
    ("ID", re.compile(rf"(?i:\b(?:{_ID_WORDS})\b(?:\s*(?:is|was|are|:|#|no\.?|number|of|ends? in|reads?))*\s*)"
                      r"(?P<v>\d{3} \d{3} \d{4}\b|(?=[A-Za-z\-/]*\d)[A-Za-z0-9][A-Za-z0-9\-/]{3,}[A-Za-z0-9])"), 0.86),
    # seven-digit phone numbers, which the phonenumbers library does not take without an area code
    ("PHONE", re.compile(r"(?i:\b(?:call|text|reach|ring|number|cell|phone|mobile|line|landline|extension|"
                         r"ext|number's|number is)\b[^.?!\d]{0,25}?)(?P<v>\b\d{3}[-.]\d{4})\b"), 0.8),
    ("ID", re.compile(r"\b(?=[A-Z\-]*\d)(?:[A-Z]{1,3}-?\d{5,}|\d{7,}|\d{3}-\d{2}-\d{4}|[A-Z]{1,3}\d{2,}-\d{2,}"
                      r"(?:-\d+)?)\b"), 0.5),
    # ages over 89
    ("AGE", re.compile(rf"(?i:\b(?P<v>{_AGE_NUM})"
                       r"(?=[\s-]*(?:years?|yrs?)[\s-]*old|-year-old|[\s-]*years\s+of\s+age))"), 0.9),
    ("AGE", re.compile(rf"(?i:\b(?:aged?|age of|turned|turning|turns|reached|made it to|lived to|"
                       rf"(?:she|he|i|they|who|grandma|grandpa|nana|gran|nan|granny|grandmother|grandfather|mother|father|mom|"
                       rf"mum|dad|aunt|uncle|neighbou?r|husband|wife)(?:'s|'m|’s| is| am| was| were)\s+(?:now\s+|almost\s+|"
                       rf"nearly\s+|about\s+|going on\s+|already\s+)?)\s*(?P<v>{_AGE_NUM})\b"
                       r"(?!\s*(?:%|percent|dollars|bucks|pounds|kilos|kg|lbs|minutes|seconds|times|miles|degrees|"
                       r"days|hours|points|cents|pages|calls|texts|dollar|k\b)))"), 0.85),
    ("AGE", re.compile(r"(?i:\b(?:in\s+(?:his|her|their|my|your)\s+(?:early\s+|mid-?\s*|late\s+)?)"
                       r"(?P<v>nineties|90s)\b)"), 0.8),
    # dates spaCy misses or splits
    ("DATE", re.compile(rf"\b\d{{1,2}}[/.\-]\d{{1,2}}[/.\-](?:{_YEAR}|\d\d)\b|\b{_YEAR}-\d\d-\d\d\b"), 0.9),
    ("DATE", re.compile(rf"\b{_MONTH}\s+(?:the\s+)?{_DAY}\b(?:,?\s+{_YEAR}\b)?"), 0.85),
    ("DATE", re.compile(rf"(?i:\bthe\s+)?\b{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR}\b)?"), 0.85),
    ("DATE", re.compile(rf"\b{_MONTH}\s+{_YEAR}\b|\b{_MONTH}\s+'\d\d\b"), 0.85),
    ("DATE", re.compile(r"(?i:\b(?:on|by|until|till|before|after|from|since|due|monday|tuesday|wednesday|thursday|"
                        r"friday|saturday|sunday),?\s+the\s+)(?P<v>\d{1,2}(?:st|nd|rd|th))\b"
                        r"(?!\s+(?:time|floor|grade|century|birthday|anniversary|try|round|day|week|place))"), 0.8),
    ("DATE", re.compile(r"(?i:(?<=\bon )|(?<=\bby )|(?<=\bsince )|(?<=\buntil )|(?<=\bbefore )|(?<=\bafter )"
                        r"|(?<=\bfrom )|(?<=\bdue )|(?<=\bthrough ))\d{1,2}/\d{1,2}\b"), 0.75),
]
