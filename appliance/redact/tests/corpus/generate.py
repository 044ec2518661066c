#!/usr/bin/env python3
"""Writes transcripts.jsonl: the labelled corpus the detector is scored on.

Each line is a sentence from a call or a log, written as typed or as a speech recogniser
writes speech, with every entity labelled by character offsets; hard negatives carry none.
The values are test numbers (555-01xx phones, documentation IP ranges, the card networks'
published test cards). Deterministic: the same script always writes the same file.

    python3 generate.py > transcripts.jsonl
"""

import json
import random
import sys

R = random.Random(20261204)

UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
FILLERS = ["uh", "um", "er"]


def two_digit_words(n):
    if n < 10:
        return "oh " + UNITS[n]
    if n < 20:
        return TEENS[n - 10]
    return TENS[n // 10] + ("" if n % 10 == 0 else " " + UNITS[n % 10])


def say_digits(digits, groups=None, style=None):
    """Digits as a person says them: singly, with "oh", "double", pauses and fillers."""
    style = style or {}
    words = []
    i = 0
    group_ends = set()
    if groups:
        acc = 0
        for g in groups:
            acc += g
            group_ends.add(acc)
    while i < len(digits):
        d = digits[i]
        run = 1
        while i + run < len(digits) and digits[i + run] == d and (i + run) not in group_ends:
            run += 1
        zero = "oh" if style.get("oh") else "zero"
        word = zero if d == "0" else UNITS[int(d)]
        if run >= 3 and style.get("triple"):
            words.append("triple " + word)
            i += 3
        elif run >= 2 and style.get("double"):
            words.append("double " + word)
            i += 2
        else:
            words.append(word)
            i += 1
        if i in group_ends and i < len(digits):
            if style.get("filler") and R.random() < 0.4:
                words[-1] += ", " + R.choice(FILLERS) + ","
            elif style.get("pause"):
                words[-1] += ","
    return " ".join(words)


def random_style():
    return {
        "oh": R.random() < 0.7,
        "double": R.random() < 0.5,
        "triple": R.random() < 0.3,
        "filler": R.random() < 0.4,
        "pause": R.random() < 0.5,
    }


def line(form, template, **values):
    """Fills {name} slots in template with (type, value) pairs, labelling each."""
    text = ""
    entities = []
    rest = template
    while "{" in rest:
        before, _, after = rest.partition("{")
        name, _, rest = after.partition("}")
        text += before
        kind, value = values[name]
        entities.append({"start": len(text), "end": len(text) + len(value), "type": kind,
                         "value": value})
        text += value
    text += rest
    return {"text": text, "form": form, "entities": entities}


def neg(text):
    return {"text": text, "form": "negative", "entities": []}


def nanp_number():
    area = R.choice(["415", "212", "646", "312", "617", "206", "503", "713", "305", "720"])
    return area, "555", "01" + "%02d" % R.randint(0, 99)


def written_phones():
    fmts = [
        lambda a, e, s: f"({a}) {e}-{s}",
        lambda a, e, s: f"{a}-{e}-{s}",
        lambda a, e, s: f"{a}.{e}.{s}",
        lambda a, e, s: f"+1 {a} {e} {s}",
        lambda a, e, s: f"+1{a}{e}{s}",
        lambda a, e, s: f"1-{a}-{e}-{s}",
        lambda a, e, s: f"{a} {e} {s}",
        lambda a, e, s: f"+1 ({a}) {e}-{s}",
        lambda a, e, s: f"{a}{e}{s}",
    ]
    intl = ["+44 20 7946 0958", "+442079460958", "020 7946 0958", "+49 30 901820",
            "+33 1 42 68 53 00", "+61 2 9876 5432", "+81 3-1234-5678", "0044 20 7946 0321",
            "+353 1 234 5678", "+34 912 345 678", "1-800-555-0199", "1 (888) 555-0142"]
    templates = [
        "you can reach me at {p}", "my cell is {p}, call after six",
        "call me back on {p} please", "the number on file is {p}",
        "{p} is my direct line", "text me at {p} when you land",
        "caller left a voicemail from {p}", "fax it to {p}",
        "my wife's phone is {p} and mine is the same", "It's {p}.",
        "try the office, {p}, if I don't pick up",
        "new mobile number: {p}",
    ]
    out = []
    for t in templates:
        for _ in range(2):
            p = R.choice(fmts)(*nanp_number())
            out.append(line("written", t, p=("PHONE", p)))
    for n in intl:
        out.append(line("written", R.choice(templates), p=("PHONE", n)))
    for ext in ["ext. 204", "x204", "ext 17", "extension 3301"]:
        a, e, s = nanp_number()
        out.append(line("written", "desk is {p} if you need me",
                        p=("PHONE", f"({a}) {e}-{s} {ext}")))
    out.append(line("written", "call {a} or {b}",
                    a=("PHONE", "415-555-0134"), b=("PHONE", "415-555-0178")))
    out.append(line("written", "local number {p} only", p=("PHONE", "555-0134")))
    return out


def written_emails():
    names = ["jane.doe", "john.smith", "m.garcia", "li_wei", "o'brien", "sam+billing",
             "alex-k", "support", "p.nguyen42", "zoe"]
    domains = ["example.com", "gmail.com", "acme.co.uk", "mail.example.org", "outlook.com",
               "globex.io"]
    templates = ["send it to {e}", "my email is {e}", "reply to {e} thanks",
                 "{e} is the billing contact", "contact: {e}", "cc {e} on that"]
    out = []
    for name in names:
        e = name.replace("'", "") + "@" + R.choice(domains)
        out.append(line("written", R.choice(templates), e=("EMAIL", e)))
    for _ in range(8):
        e = R.choice(names).replace("'", "") + "@" + R.choice(domains)
        out.append(line("written", R.choice(templates), e=("EMAIL", e.upper() if R.random() < 0.2 else e)))
    return out


CARDS = ["4111111111111111", "4012888888881881", "4222222222222", "5555555555554444",
         "5105105105105100", "2223003122003222", "2720990000000007", "378282246310005",
         "371449635398431", "30569309025904", "38520000023237", "6011111111111117",
         "6011000990139424", "3530111333300000", "3566002020360505", "6200000000000005",
         "6759649826438453", "2200000000000004", "4000056655665556", "5200828282828210"]


def group_card(c):
    if len(c) == 15:
        return [4, 6, 5]
    if len(c) == 14:
        return [4, 6, 4]
    if len(c) == 13:
        return [4, 4, 5]
    return [4] * (len(c) // 4) + ([len(c) % 4] if len(c) % 4 else [])


def split(c, groups, sep):
    parts, i = [], 0
    for g in groups:
        parts.append(c[i:i + g])
        i += g
    return sep.join(parts)


def written_cards():
    templates = ["card number is {c}", "it's {c}", "use the visa {c} for that",
                 "charge {c} please", "my debit card {c} was declined",
                 "the card ending in the number {c}"]
    out = []
    for c in CARDS:
        sep = R.choice([" ", "-", ""])
        out.append(line("written", R.choice(templates), c=("CARD", split(c, group_card(c), sep))))
    out.append(line("written", "card {c} expires {x} and the cvv is {v}",
                    c=("CARD", "4111 1111 1111 1111"), x=("EXPIRY", "12/27"), v=("CVV", "123")))
    out.append(line("written", "amex {c}, exp {x}, security code {v}",
                    c=("CARD", "3782 822463 10005"), x=("EXPIRY", "08/2028"), v=("CVV", "4321")))
    for x in ["01/26", "11/29", "7/27", "09 / 30"]:
        out.append(line("written", "expiration date {x}", x=("EXPIRY", x)))
    for v in ["737", "018", "9921"]:
        out.append(line("written", "the CVV on the back is {v}", v=("CVV", v)))
    return out


def written_ids():
    out = []
    for s in ["536-22-5789", "123-45-6789", "401-33-2020", "772-10-4455"]:
        out.append(line("written", "SSN {s} on the form", s=("SSN", s)))
    for s in ["536 22 5789", "219-45-1234"]:
        out.append(line("written", "her social security number is {s}", s=("SSN", s)))
    out.append(line("written", "ssn: {s}", s=("SSN", "536225789")))
    for acct in ["12345678", "000123456789", "9876543210", "4455667788990"]:
        out.append(line("written", R.choice(["account number {a}", "my checking account is {a}",
                                             "acct {a} at the credit union"]),
                        a=("ACCOUNT", acct)))
    for rtn in ["021000021", "011401533", "121000248", "026009593", "322271627"]:
        out.append(line("written", R.choice(["routing number {r}", "the ABA is {r}",
                                             "routing {r}, account below"]),
                        r=("ROUTING", rtn)))
    out.append(line("written", "routing {r} and account number {a}",
                    r=("ROUTING", "021000021"), a=("ACCOUNT", "123456789012")))
    for iban in ["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000",
                 "FR14 2004 1010 0505 0001 3M02 606", "NL91ABNA0417164300",
                 "ES91 2100 0418 4502 0005 1332", "CH93 0076 2011 6238 5295 7"]:
        out.append(line("written", R.choice(["IBAN {i}", "wire it to {i} please",
                                             "my iban is {i}"]), i=("IBAN", iban)))
    for pin in ["4821", "0000", "739205"]:
        out.append(line("written", R.choice(["my PIN is {p}", "pin {p}", "the pin code is {p}"]),
                        p=("PIN", pin)))
    for ip in ["203.0.113.7", "198.51.100.24", "192.0.2.200", "10.12.0.5",
               "2001:db8::8a2e:370:7334", "fe80::1ff:fe23:4567:890a", "2001:db8:0:0:1:0:0:1"]:
        out.append(line("written", R.choice(["request from {i} refused", "peer {i} connected",
                                             "my IP is {i}"]), i=("IP", ip)))
    return out


def spoken_phones():
    templates = ["you can reach me at {p}", "my number is {p}", "call me back at {p} okay",
                 "it's {p}", "yeah the cell is {p}", "so that's {p} thank you",
                 "uh my phone number {p}", "the best number is {p}"]
    out = []
    for _ in range(40):
        a, e, s = nanp_number()
        style = random_style()
        p = say_digits(a + e + s, [3, 3, 4], style)
        out.append(line("spoken", R.choice(templates), p=("PHONE", p)))
    for _ in range(6):
        a, e, s = nanp_number()
        p = "one " + say_digits(a + e + s, [3, 3, 4], random_style())
        out.append(line("spoken", R.choice(templates), p=("PHONE", p)))
    for tail in ["five five five one two one two", "five five five oh one nine nine"]:
        out.append(line("spoken", "call {p}", p=("PHONE", "one eight hundred " + tail)))
    out.append(line("spoken", "the number is {p}",
                    p=("PHONE", "plus four four two oh seven nine four six oh nine five eight")))
    out.append(line("spoken", "my extension {p}",
                    p=("PHONE", "four one five five five five oh one three four extension two oh four")))
    out.append(line("spoken", "reach me at {p}",
                    p=("PHONE", "four one five, uh, five five five, oh one three four")))
    out.append(line("spoken", "it's {p} or {q}",
                    p=("PHONE", "four one five five five five oh one three four"),
                    q=("PHONE", "six four six five five five oh one two two")))
    return out


def spoken_emails():
    out = []
    spelled = [("j o h n dot smith", "gmail dot com"), ("m garcia", "yahoo dot com"),
               ("jane dot doe", "example dot org"), ("s a m underscore lee", "outlook dot com"),
               ("p n g u y e n", "acme dot co dot uk"), ("alex dash kim", "globex dot io"),
               ("li wei", "hotmail dot com"), ("z o e", "icloud dot com"),
               ("tom dot baker", "gmail.com"), ("r o s a", "company dot net")]
    templates = ["my email is {e}", "it's {e}", "send it to {e} please",
                 "uh the address is {e}", "you can email me at {e}"]
    for local, domain in spelled:
        for _ in range(2):
            out.append(line("spoken", R.choice(templates), e=("EMAIL", f"{local} at {domain}")))
    return out


def spoken_cards():
    out = []
    templates = ["my card number is {c}", "it's a visa {c}", "card number {c}",
                 "okay the card is {c}"]
    for c in CARDS:
        style = random_style()
        style["triple"] = False
        out.append(line("spoken", R.choice(templates),
                        c=("CARD", say_digits(c, group_card(c), style))))
    for month, year in [(8, 27), (12, 29), (1, 30), (4, 28)]:
        said = two_digit_words(month) + " " + two_digit_words(year)
        out.append(line("spoken", R.choice(["it expires {x}", "expiration {x}",
                                            "expiry date is {x}"]), x=("EXPIRY", said)))
    for v in ["123", "737", "4321", "509"]:
        out.append(line("spoken", R.choice(["the cvv is {v}", "security code {v}", "cvv {v}"]),
                        v=("CVV", say_digits(v, None, {"oh": True}))))
    out.append(line("spoken", "card {c} expires {x} security code {v}",
                    c=("CARD", say_digits("5555555555554444", [4, 4, 4, 4], {"double": True})),
                    x=("EXPIRY", "oh nine twenty eight"), v=("CVV", "one two three")))
    return out


def spoken_ids():
    out = []
    for s in ["536225789", "401332020", "772104455", "219451234"]:
        out.append(line("spoken", R.choice(["my social is {s}", "social security number {s}",
                                            "the ssn is {s}"]),
                        s=("SSN", say_digits(s, [3, 2, 4], random_style()))))
    for acct in ["12345678", "9876543210", "000123456789"]:
        out.append(line("spoken", R.choice(["my account number is {a}", "checking account {a}"]),
                        a=("ACCOUNT", say_digits(acct, None, random_style()))))
    for rtn in ["021000021", "121000248", "011401533"]:
        out.append(line("spoken", "the routing number is {r}",
                        r=("ROUTING", say_digits(rtn, None, random_style()))))
    for pin in ["4821", "1972", "0415"]:
        said = say_digits(pin, None, {"oh": True})
        out.append(line("spoken", R.choice(["my pin is {p}", "pin number {p}"]), p=("PIN", said)))
    out.append(line("spoken", "my pin is {p}", p=("PIN", "nineteen seventy two")))
    return out


def varied():
    """Phrasings written apart from the templates above, to keep the score honest."""
    w, s = "written", "spoken"
    return [
        line(w, "my number's {p} if you need it", p=("PHONE", "415 555 0134")),
        line(w, "Phone: {p}", p=("PHONE", "(212)555-0187")),
        line(w, "pls call {p} asap", p=("PHONE", "646.555.0110")),
        line(w, "Tel {p} / fax {q}", p=("PHONE", "+1-312-555-0144"), q=("PHONE", "+1-312-555-0145")),
        line(w, "WhatsApp me on {p}", p=("PHONE", "+44 7700 900123")),
        line(w, "the Berlin office is {p}", p=("PHONE", "+49 (0)30 1234567")),
        line(w, "customer={e} status=active", e=("EMAIL", "first.last@sub.example.com")),
        line(w, "From: Jane <{e}>", e=("EMAIL", "jane@example.net")),
        line(w, "card no. {c} exp {x} cvc {v}", c=("CARD", "5105-1051-0510-5100"),
             x=("EXPIRY", "03/29"), v=("CVV", "842")),
        line(w, "Visa ending {c}", c=("CARD", "4012 8888 8888 1881")),
        line(w, "SSN: {s}.", s=("SSN", "401-33-2020")),
        line(w, "acct #: {a}", a=("ACCOUNT", "556677889900")),
        line(w, "ABA {r}", r=("ROUTING", "121000248")),
        line(w, "IBAN: {i}", i=("IBAN", "GB29 NWBK 6016 1331 9268 19")),
        line(w, "client {i} timed out after 30s", i=("IP", "198.51.100.77")),
        line(w, "pin: {p}", p=("PIN", "9137")),
        line(s, "sure it's {p}", p=("PHONE", "two one two, five five five, zero one eight seven")),
        line(s, "my cell phone number is {p}",
             p=("PHONE", "six four six five five five oh one one oh")),
        line(s, "yeah {p} that's my work number",
             p=("PHONE", "three one two five five five oh one four four")),
        line(s, "you can call {p}", p=("PHONE", "eight hundred five five five oh one nine nine")),
        line(s, "okay so the number is {p} ok",
             p=("PHONE", "seven one three, um, five five five, oh one, two two")),
        line(s, "my email address is {e}", e=("EMAIL", "k a t e dot w at example dot com")),
        line(s, "it's {e}", e=("EMAIL", "bob underscore jones at mail dot example dot org")),
        line(s, "the card number is {c} and it expires {x}",
             c=("CARD", "four one one one one one one one one one one one one one one one"),
             x=("EXPIRY", "twelve twenty eight")),
        line(s, "card {c}", c=("CARD", "three seven eight two eight two two four six three one oh oh oh five")),
        line(s, "cvv is {v}", v=("CVV", "eight four two")),
        line(s, "social is {s}", s=("SSN", "five three six twenty two fifty seven eighty nine")),
        line(s, "the account number {a}", a=("ACCOUNT", "five five six six seven seven eight eight")),
        line(s, "pin is {p}", p=("PIN", "nine one three seven")),
        line(s, "um my pin {p}", p=("PIN", "double four six eight")),
        neg("I got there at twenty past nine"), neg("it was about four fifty a month"),
        neg("we need 4 more chairs at table 12"), neg("the deadline is 11/30"),
        neg("it's 555 feet tall"), neg("the order was number 12"),
        neg("invoice number 4111111111111112 is paid"), neg("gate B22 at 14:50"),
        neg("we have 3 offices and 415 staff"), neg("page 1 of 12"),
        neg("the year was 1984"), neg("in nineteen eighty four"),
        neg("the 2 o'clock and the 3 o'clock"), neg("a cool 1.5 million"),
        neg("meet at noon at the cafe"), neg("reply at your convenience"),
        neg("it's one two three four five six seven eight nine ten"),
    ]


NEGATIVES = [
    "let's meet at 10:30 tomorrow", "the call lasted 14:05 minutes", "it costs $1,299.99",
    "that's twenty five dollars and fifty cents", "I need 12 boxes by Friday",
    "the invoice is dated 2026-12-03", "we met on 12/03/2026", "I was born in nineteen seventy two",
    "I live at 1600 Pennsylvania Avenue", "the office is at 221 Baker Street",
    "order number 4111 1111 1111 1112", "order number 4155550134 shipped today",
    "invoice 20231204 is overdue", "ticket number 5550134 was closed",
    "my zip code is 94105", "flight 415 leaves from gate 12", "room 555 on the fifth floor",
    "I'll be at the office at five", "see you at home at six thirty", "look at that",
    "she works at Google now", "I'm at the store, at the checkout", "version 1.2.3 was released",
    "build 10.0.19045 is installed", "I called 3 times this week",
    "the meeting is at two o'clock", "confirmation number 88392017",
    "we sold two thousand five hundred units", "the score was 21 to 14",
    "it's 72 degrees outside", "the tracking number is 1Z999AA10123456784",
    "reference 4000 1234 5678 9010", "serial number 123456789", "it was ninety nine ninety nine",
    "about four or five people came", "give me five minutes", "one two three go",
    "chapter 11, page 304", "between 2019 and 2023", "the model is X-5000",
    "it weighs 150 pounds", "add 3 cups of flour and 2 eggs", "she is 34 years old",
    "our case number is 00012345", "the password policy needs 12 characters",
    "call duration 48213 ms", "tenant=acme calls=3 frames=1234567",
    "it happened at half past nine", "we open at 9 and close at 17",
    "the total was one hundred and five", "take route 66 to exit 12",
    "the temperature dropped to minus five", "he said, uh, five or six",
    "part number 555-01", "the year two thousand twelve", "about 1,000,000 users",
    "the code is on the whiteboard", "email me at work tomorrow",
    "my address is on the account", "the pin is in the drawer", "dot the i's",
    "meet me at the station dot", "the card was declined", "I lost my card yesterday",
    "I have 2 kids and 1 dog", "policy number 77812345", "policy 2 of 3 applies",
    "at 3 pm we'll call you", "they paid $4,155.50 in total", "5 5 5",
    "the ratio is 3:2", "ports 5060 and 5061 are open", "pid 48213 exited",
    "disk at 91 percent", "sequence 1 2 3 4 5", "set volume to eleven",
    "take two tablets three times a day", "the 1990s were fun",
    "in 2024 we moved", "see page 12", "one moment please", "hold on a second",
    "it's about an hour and fifteen minutes", "the bill was ninety dollars",
    "my order 7781234 hasn't arrived", "member id 88120034", "sku 400012345",
    "aisle 5, shelf 3", "I'll call you at seven", "top 10 list", "at least twice",
    "the flight at 6:45 am", "call back in 30 minutes", "grade 8 students",
    "a 1-2-3 punch", "it was 1:0 at halftime", "it's 4 o'clock",
    "Model 3 and Model Y", "the 24/7 helpline", "save 20% today", "we're at 99.9% uptime",
    "temperature 98.6", "the 3-pack costs 12.99", "chapter 7 bankruptcy",
    "at approximately noon", "a lot of people at once", "I'll get back to you at some point",
    "look at page 4 and 5", "address it to the manager at head office",
    "there were nine hundred ninety nine entries", "a hundred percent",
    "maybe two or three thousand", "it's the 25th of December", "December 25, 2026",
    "he scored 9.5 out of 10", "the 405 freeway", "catch the 7:15 train",
    "use coupon SAVE2026", "dial tone at 440 hertz", "pin the tab", "tap your card there",
]


def main():
    lines = (written_phones() + written_emails() + written_cards() + written_ids()
             + spoken_phones() + spoken_emails() + spoken_cards() + spoken_ids() + varied()
             + [neg(t) for t in NEGATIVES])
    for entry in lines:
        sys.stdout.write(json.dumps(entry, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
