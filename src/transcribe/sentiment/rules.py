"""What phone calls say that a general-purpose lexicon misreads: the word values, phrases,
formulas and sarcastic openers the scorer applies on top of VADER's lexicon.

Kept as data, apart from the steps in `scorer.py`, so a rule can be read, and changed, as
a list. Every pattern is matched on lower-case text with straight apostrophes.
"""

from __future__ import annotations

import re

# Scores closer to 0 than this count as neutral, as in the labelling rules of the examples.
NEUTRAL_BAND = 0.05

# Words whose general-purpose value is wrong in a call. `please`, `like` and `okay` are how
# requests and acknowledgements are phrased, not feelings; `sorry` opens requests ("sorry,
# could you repeat that?") as often as it apologises; `no` answers questions. Outcome words
# of customer service (`sorted`, `fixed`, `refund`) carry the feeling of a call.
WORD_VALUES: dict[str, float] = {
    # Politeness and backchannel: no feeling of their own.
    "please": 0.0,
    "like": 0.0,
    "okay": 0.0,
    "ok": 0.0,
    "yes": 0.0,
    "yeah": 0.0,
    "sure": 0.0,
    "well": 0.0,
    "sorry": 0.0,
    "no": 0.0,
    "urgent": 0.0,
    "holiday": 0.0,
    "holidays": 0.0,
    "care": 0.0,
    "support": 0.0,  # a department ("technical support"), not a feeling
    "joke": -1.5,  # "you people are a joke"
    # Gratitude is politeness ("Thanks, bye"); what was done carries the feeling.
    "thank": 0.0,
    "thanks": 0.0,
    "cheers": 0.0,
    # Outcomes.
    "sorted": 1.8,
    "sorting": 1.5,
    "fixed": 1.8,
    "solved": 1.8,
    "resolved": 1.8,
    "works": 1.2,
    "working": 1.2,
    "worked": 1.2,
    "refund": 1.2,
    "refunded": 1.6,
    "waived": 1.8,
    "credited": 1.5,
    "approved": 1.8,
    "upheld": 1.5,
    "recovered": 1.5,
    "upgraded": 1.5,
    "upgrade": 0.8,
    "discount": 1.2,
    "cheaper": 1.2,
    "faster": 1.0,
    "quicker": 1.0,
    "quick": 1.2,
    "patient": 1.5,
    "smoothly": 1.5,
    "star": 1.8,
    "thorough": 1.5,
    "friendly": 2.2,
    "clear": 0.8,
    # Complaints and bad news.
    "charge": -1.0,
    "fee": -1.0,
    "smashed": -2.0,
    "crashes": -1.7,
    "crashed": -1.7,
    "dies": -1.8,
    "expired": -1.2,
    "declined": -1.5,
    "cancelled": -1.5,
    "canceled": -1.5,
    "delayed": -1.5,
    "overcharged": -2.2,
    "unacceptable": -2.5,
    "useless": -2.5,
    "expensive": -1.2,
    "pricier": -0.5,
    "deceased": -1.0,
    "dropped": -1.2,
    "excuses": -1.5,
    "embarrassing": -1.6,
}

# Said to be polite; they carry no feeling of the call, so they are cut before scoring
# ("Thank you for calling, have a lovely day" is neutral).
FORMULAS = re.compile(
    r"\b(?:"
    r"thank(?:s| you)(?: very much| so much)? for (?:calling|holding|waiting|your patience"
    r"|your time|getting back(?: to me)?|bearing with me|ringing|contacting us|choosing \w+)"
    r"|thanks for holding"
    r"|(?:i )?(?:really )?appreciate your patience"
    r"|(?:i )?hope you have a (?:\w+ )?(?:day|weekend|evening|afternoon|morning|week|one"
    r"|rest of your \w+)"
    r"|(?:have|enjoy) (?:a|the rest of your) (?:\w+ )?(?:day|weekend|evening|afternoon"
    r"|morning|week|one|holiday)"
    r"|sorry (?:to keep you waiting|for (?:the|your) wait(?:ing)?|for keeping you(?: waiting)?"
    r"|for the delay|about that|about the wait)"
    r"|(?:you're|you are) (?:very |most )?welcome"
    r"|no worries(?: at all)?"
    r"|no problem(?: at all)?"
    r"|(?:i'm |i am |i'd be |we're )?(?:happy|glad|pleased) to (?:help|hold|wait|assist)"
    r"|(?:how )?(?:can|may) i help(?: you)?(?: today| with)?"
    r"|anything else i can (?:help|do)(?: you)?(?: with| for you)?"
    r"|good (?:morning|afternoon|evening)"
    r"|take care"
    r"|(?:bye)+(?: bye)*(?: now)?"
    r"|speak soon"
    r"|bear with me"
    r"|not gonna lie|to be honest|if i'm honest|i mean|you know"
    r")\b"
)

# A sentence that starts with a positive word said on its own ("Great, ...", "oh lovely
# so ..."): sarcasm when what follows is a complaint, a filler before a question.
OPENER = re.compile(
    r"^(?:(?:oh|well|okay|ok|right|yeah|yes)[,!]? )?(?:that's |that is )?(?:just )?(?:really )?"
    r"(?:great|brilliant|lovely|perfect|wonderful|fantastic|excellent|super|marvellous"
    r"|marvelous|fabulous|awesome|cool|good|nice|terrific|helpful|sure|fine)\b[,.!]?\s*"
    r"(?:thanks|thank you|cheers)?[,.!]?\s*"
)

# What follows an opener in sarcasm: the same again, "so now I have to ...". A weak marker
# makes sarcasm of a clause with no feeling of its own; a strong one of any clause.
SARCASM_MARKERS = re.compile(
    r"\b(?:again|same|so (?:now )?i(?:'ve|'ll| have| will| get| can| need)"
    r"|now (?:it's|i|you|the)|all over|down)\b"
)
STRONG_SARCASM = re.compile(r"\b(?:another|because that|yet another|just what i needed)\b")

# Outcomes and complaints spelt with more than one word, each with a value on VADER's
# scale (-4..4). A complaint is negative even with no emotion word in it ("the engineer
# never turned up"); bad news is negative even when said politely.
PHRASES: list[tuple[str, float]] = [
    # Negated negatives and understatement: positive.
    (r"not (?:too |that |so |half )?bad(?: at all)?", 1.8),
    (r"(?:wasn't|was not|isn't|is not) as bad as", 1.8),
    (r"can't (?:fault|complain)|cannot (?:fault|complain)|no complaints?", 1.8),
    (r"can't thank you enough", 3.0),
    (r"no (?:more )?(?:problems?|issues?|trouble)(?: at all| whatsoever)?", 1.8),
    (r"(?:won't|will not|shouldn't) (?:have|get) any (?:more )?(?:trouble|problems?|issues?)", 1.8),
    (r"(?:there's |there is )?nothing to worry about", 1.8),
    (
        r"(?:no|without any) (?:extra )?(?:charge|cost|fee)|free of charge|at no (?:extra )?cost",
        2.0,
    ),
    (r"(?:don't|won't|do not|will not) (?:need to|have to) pay", 1.8),
    (r"back to normal|back (?:up|on|online)(?: and running)?|come back on", 2.0),
    (r"(?:all )?(?:done|sorted|set) for you", 1.5),
    (r"(?:good|great) news", 2.0),
    (r"(?:made|make|making) my day|well done", 2.5),
    (
        r"(?:complaint|claim|appeal)s? (?:has been |have been |was |were |is )?(?:upheld|approved"
        r"|accepted)",
        2.5,
    ),
    (r"(?:on its|on their) way", 1.0),
    (r"(?:weight|load) off my mind|(?:put|set) my mind at (?:rest|ease)", 2.5),
    (r"(?:above and beyond|out of (?:his|her|their|your) way)", 2.5),
    (r"worth (?:every|the) (?:penny|money|wait)", 2.5),
    (r"money back", 1.5),
    (r"(?:been|was|were|be) (?:a |such a )?(?:real |great |huge |big )?help", 1.5),
    # Complaints: what went wrong, no emotion word needed.
    (
        r"never (?:turned|showed|came|come|got back|called back|rang back|arrived|happened"
        r"|received|got|heard)",
        -2.5,
    ),
    (
        r"(?:didn't|did not|hasn't|has not|haven't|have not|never) (?:authori[sz]ed?|agreed?"
        r"|ordered|order)",
        -2.5,
    ),
    (r"(?:not|won't|refuse to|shouldn't have to) (?:be )?pay(?:ing)? (?:for|that|this|it)", -2.2),
    (r"hung up on|put the phone down on", -2.5),
    (r"(?:i|we) (?:was|were) (?:told|promised)|said (?:he|she|they|you|it) (?:would|'d)", -2.5),
    (r"(?:it's|it was|it is|that's) (?:pretty |very |quite )?close$", -2.0),
    (
        r"(?:nobody|no one|no-one|noone)(?: has| had| ever| will| is)? (?:\w+ )?(?:called|rang|told"
        r"|bothered|got back|answer|answers|answered|listens|listening|helps|helped|contacted"
        r"|turned|came|replied|phoned)",
        -2.5,
    ),
    (
        r"still (?:waiting|not|hasn't|haven't|isn't|doesn't|don't|can't|won't|no|nothing|locked"
        r"|broken|down|off|charging|getting|having|the same)",
        -2.5,
    ),
    (r"(?:three|two|four|five|six|\w+) (?:weeks|days|months|hours) and still", -1.0),
    (r"and still nothing|still nothing", -1.0),
    (
        r"(?:been )?waiting (?:for|since) (?:over |nearly |almost |about )?(?:\w+ )?(?:hours?|days?"
        r"|weeks?|months?|ages|ever|o'clock|this morning|someone|a callback)",
        -2.2,
    ),
    (
        r"(?:charged|billed) (?:twice|double|two times)|double charged|charged for (?:something"
        r"|a service|nothing)|being (?:charged|billed)",
        -2.5,
    ),
    (r"(?:on|been on) hold (?:for|all)|hours? on hold|(?:another|an) hour on hold", -2.5),
    (
        r"cut off|cutting out|drop(?:ping|s)? out|keeps? (?:dropping|cutting|crashing|freezing"
        r"|saying|losing|going|turning|breaking|happening)",
        -2.2,
    ),
    (
        r"(?:second|third|fourth|fifth|sixth|tenth|\w+th) (?:time|week|engineer|call|person"
        r"|letter|attempt)",
        -1.8,
    ),
    (r"how many (?:more )?times|what's the point|what is the point", -2.5),
    (
        r"without (?:telling|warning|asking|notice|any warning|anyone|internet|power|heating"
        r"|hot water|a phone|broadband|water)",
        -2.2,
    ),
    (r"passed (?:around|from|between)|(?:different|five|four|three) departments", -2.0),
    (r"for nothing", -2.5),
    (r"fed up|had enough|sick (?:of|and tired)", -2.8),
    (
        r"(?:can't|cannot|couldn't|unable to|not able to) (?:log ?in|get through|access|find"
        r"|offer|process|hear|get|connect|pay|use)",
        -2.0,
    ),
    (r"(?:barely|hardly) (?:hear|work|use)", -2.0),
    (r"(?:not|isn't|is not|aren't) (?:acceptable|good enough|right|fair|on)", -2.5),
    (r"i'm afraid|i am afraid|sorry to (?:say|tell you|inform)", -1.5),
    (
        r"(?:has|have|had|'s|'ve|been|was|were) (?:been )?(?:cancel+ed|delayed|suspended|declined"
        r"|closed|lost|rejected|refused)",
        -1.5,
    ),
    (r"had to (?:cancel|write off|take a day)", -2.0),
    (r"out of stock|not in stock|no stock", -2.0),
    (r"(?:don't|do not|doesn't) have any .{0,30}available|no \w+ available", -2.0),
    (r"locked out|stuck (?:paying|with|on)", -2.2),
    (r"(?:was|were|is) (?:supposed|meant) to", -1.5),
    (r"not what (?:i|we) (?:was|were) told|that's not what|not what i (?:asked|ordered)", -2.0),
    (
        r"(?:price|bill|cost|tariff|premium)s? (?:has |have )?(?:gone|went|go) up|price increase"
        r"|double what",
        -2.0,
    ),
    (r"gone up", -1.0),
    (r"nothing (?:has |have )?changed|nothing but", -2.2),
    (r"(?:doesn't|does not|won't|will not|isn't|not) cover(?:ed)?", -2.0),
    (
        r"(?:doesn't|does not|don't|didn't|won't|isn't|wasn't|not) (?:work|working|help|make any"
        r" sense|make sense)",
        -2.2,
    ),
    (
        r"(?:hasn't|haven't|has not|didn't|did not|isn't|wasn't|never) (?:been )?(?:fixed|solved"
        r"|sorted|resolved|arrived|shown up|turned up|changed|helped|received|delivered|done)",
        -2.5,
    ),
    (r"not (?:happy|satisfied|pleased|impressed|prepared to)", -2.5),
    (r"wrong (?:size|item|order|address|one|colou?r|part|bill|amount)", -2.2),
    (r"(?:stopped|stops) (?:working|again)|went (?:black|dead|off)|(?:gone|went) down", -2.0),
    (r"(?:can't|cannot|couldn't) believe", -1.5),
    (r"(?:the )?(?:hold music|automated message|recorded message)", -1.0),
    (r"(?:left|leave) (?:a mess|it|the parcel|the package) (?:in|out|all over)", -2.0),
    (
        r"(?:why|how come) (?:does|do|did|is|are|am|have|has|can't|won't|doesn't) (?:nobody|no one"
        r"|i|you|it|this)",
        -1.0,
    ),
    (r"(?:formal )?complaint", -1.5),
    (r"wasted|waste of", -2.2),
    (r"(?:take|took|taking) a day off", -1.0),
    (r"too (?:expensive|much|slow|long)", -2.0),
    (r"(?:losing|lost) (?:money|you|my|the)", -1.8),
    (r"(?:isn't|is not|aren't|are not|hasn't been|haven't been) (?:fixed|working|sorted)", -2.2),
    (r"(?:over|more than) (?:an hour|\w+ minutes|\w+ hours)", -1.0),
]
