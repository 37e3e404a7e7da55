//! Engine behaviour: signals, state, labels, combination.

use super::*;
use crate::model::{Button, Entity, EntityKind, Forward, MediaKind, Message, Person};
use std::sync::OnceLock;

/// The engine as shipped (trained once for all tests; stateless checks only).
fn shipped() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(EngineConfig::default(), TrainingSet::shipped()).unwrap())
}

/// A small engine for state tests: fast to build, fresh state.
fn small() -> Engine {
    let samples = vec![
        (
            "заработок в интернете от 500$ в день пишите в личку".to_string(),
            Label::Spam,
        ),
        (
            "earn $300 daily from home, no experience, dm me now".to_string(),
            Label::Spam,
        ),
        (
            "привет, кто идёт сегодня вечером в кино?".to_string(),
            Label::Ham,
        ),
        ("thanks, the fix worked for me".to_string(), Label::Ham),
    ];
    Engine::new(EngineConfig::default(), TrainingSet { samples }).unwrap()
}

fn msg(user: i64, date: i64, text: &str) -> Message {
    Message {
        chat_id: -100,
        id: date,
        date,
        from: Person {
            id: user,
            first_name: "Test".into(),
            ..Person::default()
        },
        text: text.to_string(),
        ..Message::default()
    }
}

fn names(v: &Verdict) -> Vec<&str> {
    v.hits.iter().map(|h| h.name.as_ref()).collect()
}

#[test]
fn typical_job_scam_is_spam_and_says_why() {
    let v = shipped().check_text(
        "Ищу людей для удалённой работы, доход от 2000$ в месяц, обучение бесплатно, пишите в личку",
    );
    assert_eq!(v.class, VerdictClass::Spam, "{v:#?}");
    let classifier = v.hit("classifier").expect("classifier hit");
    assert!(
        classifier.weight > 0.0 && classifier.reason.contains("spam"),
        "{classifier:?}"
    );
    assert!(v.hit("stop_phrase").is_some(), "{v:#?}");
}

#[test]
fn everyday_chat_is_ham() {
    for text in [
        "Кто-нибудь знает, во сколько завтра открывается поликлиника?",
        "Thanks everyone, see you at the meetup on Friday!",
        "Я в личку написал тебе по поводу гаража",
        "Привіт, як справи? Їжак знову прийшов до ґанку",
    ] {
        let v = shipped().check_text(text);
        assert_eq!(v.class, VerdictClass::Ham, "{text}: {v:#?}");
    }
}

#[test]
fn a_few_spammy_words_alone_are_not_spam() {
    // Each word is common in phishing samples; five of them are not evidence enough.
    for text in ["message from a deleted account", "check your messages"] {
        let v = shipped().check_text(text);
        assert_eq!(v.class, VerdictClass::Ham, "{text}: {v:#?}");
    }
}

#[test]
fn several_spam_topics_in_one_message_read_as_a_pitch() {
    let pitch = shipped().check_text(
        "Могу поделиться материалами по криптовалюте за спасибо, научу зарабатывать на бирже",
    );
    let h = pitch.hit("pitch").expect("pitch hit");
    assert!(h.weight > 0.0, "{h:?}");
    assert!(
        h.reason.contains("4 spam topics")
            && h.reason.contains("(income, crypto, course, solicitation)"),
        "{h:?}"
    );
    // Chat touches one such topic at a time.
    let chat = shipped().check_text("Биткоин опять упал, кто-нибудь ещё держит крипту?");
    assert!(chat.hit("pitch").is_none(), "{chat:#?}");
}

#[test]
fn lookalikes_are_caught_in_both_directions() {
    let latin_in_cyrillic = shipped().check_text("Срочно нужны люди, зaрaбoтoк oт 5000 в день");
    assert!(
        latin_in_cyrillic.hit("lookalike").is_some(),
        "{latin_in_cyrillic:#?}"
    );
    let cyrillic_in_latin = shipped().check_text("Free саsinо bonus for every new player today");
    let h = cyrillic_in_latin.hit("lookalike").expect("lookalike hit");
    assert!(h.reason.contains("саsinо"), "{h:?}");
    let digits = shipped().check_text("Удалённая ра6ота, зараб0ток от 3000 в день");
    let h = digits.hit("lookalike").expect("lookalike hit");
    assert!(h.reason.contains("ра6ота"), "{h:?}");
    let styled = shipped().check_text("𝐅𝐫𝐞𝐞 𝐦𝐨𝐧𝐞𝐲 for everyone");
    assert!(styled.hit("styled_text").is_some(), "{styled:#?}");
}

#[test]
fn words_cut_into_syllables_are_read_whole_and_flagged() {
    let cut = shipped().check_text(
        "Ра-бо-та-ем удалённо, за-ра-бо-ток от 5000 в день, пи-ши-те мне за по-дроб-но-стя-ми",
    );
    assert_eq!(cut.class, VerdictClass::Spam, "{cut:#?}");
    let h = cut.hit("spacing").expect("spacing hit");
    assert!(
        h.reason.contains("cut into syllables (\"Ра-бо-та-ем\")"),
        "{h:?}"
    );
    // Read whole, the words reach the concepts: "заработок", "пишите мне".
    assert!(
        cut.hit("income").is_some() && cut.hit("contact_dm").is_some(),
        "{cut:#?}"
    );
    let laughter = shipped().check_text("ха-ха-ха, ну ты даёшь, тра-та-та");
    assert!(laughter.hit("spacing").is_none(), "{laughter:#?}");
}

#[test]
fn real_words_of_other_cyrillic_alphabets_get_no_lookalike_hit() {
    for text in [
        "Ўсё добра, дзякуй, заўтра сустрэнемся",
        "Ґанок і єнот, їжак у дворі",
        "Ђак џеп ђурђевак",
        "Қазақ әже өмір ұлт үй һәм ң",
        "ў ґ є ї ђ џ қ ә ң ө ұ ү һ і",
    ] {
        let v = shipped().check_text(text);
        assert!(v.hit("lookalike").is_none(), "{text}: {v:#?}");
    }
}

#[test]
fn emoji_heavy_text_gets_an_emoji_hit_counted_by_grapheme() {
    let v = shipped().check_text("💰💰💰 Easy money 👨‍👩‍👧 🇺🇸 🔥🔥 join now");
    let h = v.hit("emoji").expect("emoji hit");
    assert!(h.reason.starts_with("7 emoji"), "{h:?}");
}

#[test]
fn stop_phrases_match_normalised_text_and_exact_entries_whole_messages() {
    let mut e = small();
    e.set_stop_phrases(["купи слона", "=привет"]);
    let v = e.check(&msg(1, 10, "Эй, КУПИ   слона!!!"));
    assert!(v.hit("stop_phrase").is_some(), "{v:#?}");
    let v = e.check(&msg(2, 10, "Привет!"));
    let h = v.hit("stop_phrase").expect("exact phrase");
    assert!(h.reason.contains("whole message"), "{h:?}");
    let v = e.check(&msg(3, 10, "привет всем, как дела"));
    assert!(v.hit("stop_phrase").is_none(), "{v:#?}");
}

#[test]
fn a_label_takes_effect_on_the_next_check() {
    let mut e = small();
    let text = "Уникальное предложение: меняю марки на значки, пишите кто коллекционирует";
    let before = e.check(&msg(1, 1, text));
    assert!(before.hit("honeypot").is_none());
    e.add_label(text, Label::Spam);
    let after = e.check(&msg(
        2,
        2,
        "Уникальное предложение: меняю марки на значки, пишите кто коллекционирует!!",
    ));
    assert!(after.hit("honeypot").is_some(), "{after:#?}");
    assert!(after.score > before.score);

    let mut e = small();
    let ham =
        "заработок в интернете это миф, не ведитесь, пишите в личку если нужна помощь с резюме";
    let before = e.check(&msg(3, 3, ham));
    e.add_label(ham, Label::Ham);
    let after = e.check(&msg(4, 4, ham));
    assert!(after.hit("labelled_ham").is_some(), "{after:#?}");
    assert!(after.score < before.score);
}

#[test]
fn repetition_velocity_and_flood_per_user() {
    let mut e = small();
    let text = "смотрите мой новый канал про путешествия";
    assert!(e.check(&msg(7, 100, text)).hit("repetition").is_none());
    let v = e.check(&msg(7, 130, text));
    assert!(v.hit("repetition").is_some(), "{v:#?}");
    let mut last = None;
    for i in 0..12 {
        last = Some(e.check(&msg(8, 1000 + i, &format!("сообщение номер {i} о разном"))));
    }
    assert!(last.unwrap().hit("velocity").is_some());
    // What the velocity_gt rule condition reads: messages in the last minute.
    let chat = msg(8, 1011, "").chat_id;
    assert_eq!(e.messages_last_minute(chat, 8, 1011), 12);
    assert_eq!(e.messages_last_minute(chat, 8, 1100), 0);
    let mut last = None;
    for i in 0..9 {
        last = Some(e.check(&msg(9, 5000 + i, "ну")));
    }
    assert!(last.unwrap().hit("flood").is_some());
    assert_eq!(e.user_state_count(), 3);
}

#[test]
fn the_same_text_from_many_users_is_a_wave() {
    let mut e = small();
    let text = "Всем привет, загляните в мой профиль, там интересное";
    let mut verdicts = Vec::new();
    for user in 1..=3 {
        verdicts.push(e.check(&msg(user, 100 + user, text)));
    }
    assert!(verdicts[1].hit("duplicate").is_none());
    let h = verdicts[2].hit("duplicate").expect("wave");
    assert!(h.reason.contains("3 different users"), "{h:?}");
    // Outside the window the wave starts over.
    let late = e.check(&msg(10, 100_000, text));
    assert!(late.hit("duplicate").is_none());
}

#[test]
fn trusted_users_skip_content_checks_but_edits_are_checked_again() {
    let mut e = small();
    for i in 0..3 {
        e.check(&msg(
            5,
            10 * i,
            &format!("обычное сообщение {i} про погоду"),
        ));
    }
    let spam = "заработок в интернете от 500$ в день пишите в личку";
    let trusted = e.check(&msg(5, 100, spam));
    assert!(trusted.hit("classifier").is_none(), "{trusted:#?}");
    let mut edited = msg(5, 101, spam);
    edited.edited = true;
    let v = e.check(&edited);
    assert!(
        v.hit("classifier").is_some_and(|h| h.weight > 0.0),
        "{v:#?}"
    );
    assert!(v.score > trusted.score);
}

#[test]
fn metadata_signals_fire() {
    let mut m = msg(1, 1, "");
    m.buttons = vec![Button {
        text: "Join".into(),
        url: Some("https://t.me/x".into()),
    }];
    m.forward = Some(Forward {
        from_channel: true,
        from_id: Some(-1001),
        from_name: Some("Crypto News".into()),
    });
    m.media = MediaKind::Photo;
    m.reply_to_other_chat = true;
    let v = shipped().check_stateless(&m);
    for name in [
        "buttons",
        "forwarded_channel",
        "media_without_text",
        "reply_other_chat",
    ] {
        assert!(v.hit(name).is_some(), "{name}: {v:#?}");
    }
    assert!(v.hit("classifier").is_none(), "no text, no classifier");
    let mut c = msg(2, 1, "");
    c.media = MediaKind::Contact;
    assert!(shipped().check_stateless(&c).hit("contact").is_some());
}

#[test]
fn hidden_link_with_a_different_address_and_lookalike_domains() {
    let mut m = msg(1, 1, "Official site: binance.com, claim now");
    m.entities = vec![Entity {
        kind: EntityKind::TextUrl,
        offset: 15,
        length: 11,
        url: Some("https://claim-prize.xyz/bn".into()),
    }];
    let v = shipped().check_stateless(&m);
    let h = v.hit("hidden_link").expect("hidden link");
    assert!(
        h.reason.contains("binance.com") && h.reason.contains("claim-prize.xyz"),
        "{h:?}"
    );
    assert!(
        v.hit("suspicious_tld").is_some(),
        "hidden target is checked too: {v:#?}"
    );

    let v = shipped().check_text("Verify your account at https://telegrarn.org/login");
    let h = v.hit("lookalike_domain").expect("lookalike domain");
    assert!(h.reason.contains("telegram.org"), "{h:?}");
    assert!(
        shipped()
            .check_text("docs: https://telegram.org/faq")
            .hit("lookalike_domain")
            .is_none()
    );
}

#[test]
fn profile_signals() {
    let e = small();
    let person = Person {
        id: 8_100_000_000,
        first_name: "Earn money".into(),
        last_name: Some("t.me/easycash".into()),
        has_photo: Some(false),
        bio: Some("Заработок в интернете, пиши".into()),
        ..Person::default()
    };
    let hits = e.check_profile(&person);
    let got: Vec<&str> = hits.iter().map(|h| h.name.as_ref()).collect();
    for name in ["profile_link", "profile_stop_phrase", "no_photo"] {
        assert!(got.contains(&name), "{name}: {hits:#?}");
    }
    let clean = Person {
        id: 100_000,
        first_name: "Оксана".into(),
        has_photo: Some(true),
        ..Person::default()
    };
    assert!(e.check_profile(&clean).is_empty());
}

#[test]
fn account_age_estimate_is_monotonic_and_plausible() {
    let a = estimate_account_created(100_000_000).unwrap();
    let b = estimate_account_created(6_000_000_000).unwrap();
    let c = estimate_account_created(7_900_000_000).unwrap();
    assert!(a < b && b < c);
    assert!((1_400_000_000..1_450_000_000).contains(&a));
    assert_eq!(estimate_account_created(-5), None);
}

#[test]
fn new_accounts_are_flagged_relative_to_message_dates() {
    let mut e = small();
    let created = estimate_account_created(7_400_000_000).unwrap();
    let mut m = msg(7_400_000_000, created + 3 * 86_400, "всем привет");
    m.from.id = 7_400_000_000;
    let v = e.check(&m);
    assert!(v.hit("new_account").is_some(), "{v:#?}");
}

/// The Bot API and exports send every channel post from one stand-in account: each channel is
/// still its own sender, so the fifth channel gets the content checks of a first message too.
#[test]
fn channels_posting_through_one_stand_in_account_are_separate_senders() {
    let mut e = small();
    for k in 0..5 {
        let mut m = msg(
            136_817_688,
            1_700_000_000 + k * 60,
            &format!("новости канала номер {k}"),
        );
        m.sender_chat = Some(crate::model::SenderChat {
            id: -1_001_000_000_000 - k,
            title: format!("Channel {k}"),
            username: None,
        });
        let v = e.check(&m);
        assert!(v.hit("sender_chat").is_some(), "channel {k}: {v:#?}");
        assert_eq!(m.author().id, -1_001_000_000_000 - k);
    }
}

#[test]
fn extra_hits_from_other_detectors_rescore() {
    let cfg = EngineConfig::default();
    let v = shipped().check_text("всем привет, я новенький");
    let score = v.score;
    let v = v.with_extra_hits(
        [hit("raid", cfg.weights.raid, "20 joins in a minute".into())],
        &cfg,
    );
    assert!(v.score > score);
    assert_eq!(v.hits[0].name, "raid");
    let all = combine(
        vec![
            hit("raid", 3.0, String::new()),
            hit("cluster", 3.0, String::new()),
        ],
        &cfg,
    );
    assert_eq!(all.class, VerdictClass::Spam, "{all:?}");
}

#[test]
fn training_is_deterministic() {
    let a = Engine::new(EngineConfig::default(), TrainingSet::shipped()).unwrap();
    let text = "Ищу партнёров для бизнеса, пишите";
    assert_eq!(a.check_text(text), shipped().check_text(text));
}

#[test]
fn bad_thresholds_are_rejected() {
    let cfg = EngineConfig {
        review_threshold: 0.9,
        spam_threshold: 0.5,
        ..EngineConfig::default()
    };
    let err = Engine::new(cfg, TrainingSet::default())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("review_threshold"), "{err}");
}

#[test]
fn config_rejects_unknown_keys_and_keeps_defaults() {
    let cfg: EngineConfig =
        toml::from_str("spam_threshold = 0.8\n[weights]\nraid = 4.0\n").unwrap();
    assert_eq!(cfg.spam_threshold, 0.8);
    assert_eq!(cfg.weights.raid, 4.0);
    assert_eq!(cfg.weights.cluster, EngineConfig::default().weights.cluster);
    assert!(toml::from_str::<EngineConfig>("spam_treshold = 0.8").is_err());
}

#[test]
fn state_of_100k_users_stays_small() {
    let mut e = small();
    for user in 0..100_000 {
        e.check(&msg(user, 1_000 + user / 100, "привет"));
    }
    assert_eq!(e.user_state_count(), 100_000);
    let bytes = e.state_bytes();
    assert!(bytes < 100 * 1024 * 1024, "{bytes}");
    // Idle users are forgotten after the TTL.
    e.prune(1_000 + EngineConfig::default().state_ttl_secs + 10_000);
    assert_eq!(e.user_state_count(), 0);
}

#[test]
fn names_include_the_seed_vocabulary() {
    let mut e = small();
    let text = "заработок в интернете от 500$ в день пишите в личку";
    let v = e.check(&msg(1, 1, text));
    assert!(names(&v).contains(&"honeypot"), "{v:#?}");
    assert!(v.hit("links").is_none());
    let v = shipped().check_text("go https://example.com/a and https://example.org/b");
    assert!(v.hit("links").is_some(), "{v:#?}");
}

mod robustness {
    use super::*;
    use crate::engine::normalize::{entity_text, utf16_slice};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn normalize_never_panics(s in "\\PC*") {
            let n = normalize(&s);
            prop_assert!(!n.text.starts_with(' ') && !n.text.ends_with(' '));
        }

        /// Per-character NFKD in the one pass gives the words NFKC of the whole text would.
        #[test]
        fn words_match_those_of_the_nfkc_text(
            s in "[a-zA-Zа-яА-ЯёЁ \u{300}-\u{36F}\u{1D400}-\u{1D4FF}\u{FF01}-\u{FF5E}\u{AC00}-\u{AC10}\u{2000}-\u{215F}\u{A0}-\u{17F}\u{370}-\u{3FF}ﬁ…½™]{0,60}",
        ) {
            use unicode_normalization::UnicodeNormalization;
            let folded: String = s.nfkc().collect();
            prop_assert_eq!(normalize(&s).text, normalize(&folded).text);
        }

        /// The words the normalisation hands out are those of its text.
        #[test]
        fn words_of_the_normalisation_match_a_split_of_its_text(s in "\\PC{0,80}") {
            let mut n = Normalized::default();
            let mut t = tokens::Tokens::default();
            crate::engine::normalize_with_tokens(&s, &mut n, &mut t);
            let mut expected = tokens::Tokens::default();
            expected.fill(&n.text);
            prop_assert_eq!(format!("{:?}", t.list), format!("{:?}", expected.list));
        }

        /// Hyphen-cut words joined back and digits or @ folded into letters leave the words and
        /// the text in step.
        #[test]
        fn hyphen_chains_keep_words_and_text_in_step(
            s in "(([а-я]{2,4}|[а-я]{2,4}|[а-я]{1,3}[0369@][а-я]{1,3}|[а-яА-Яa-zё]{1,5}|[0-9]{1,3}|ха)(-|-|[._*]|[‐ ,]{1,2})){0,24}",
        ) {
            let mut n = Normalized::default();
            let mut t = tokens::Tokens::default();
            crate::engine::normalize_with_tokens(&s, &mut n, &mut t);
            let mut expected = tokens::Tokens::default();
            expected.fill(&n.text);
            prop_assert_eq!(format!("{:?}", t.list), format!("{:?}", expected.list));
            prop_assert_eq!(n.hyphen_split_words > 0, n.hyphen_split_example.is_some());
        }

        /// Buffers reused from a previous text change nothing.
        #[test]
        fn normalize_into_reuses_buffers_cleanly(a in "\\PC{0,80}", b in "\\PC{0,80}") {
            let mut n = normalize(&a);
            crate::engine::normalize_into(&b, &mut n);
            prop_assert_eq!(n, normalize(&b));
        }

        #[test]
        fn normalize_handles_zalgo_and_direction_overrides(
            base in "[a-z ]{0,40}|[а-ик-я ]{0,40}",
            marks in proptest::collection::vec(0x300u32..0x370, 0..200),
        ) {
            let mut s = String::from("\u{202E}");
            for (i, c) in base.chars().enumerate() {
                s.push(c);
                for m in marks.iter().skip(i % 7).take(5) {
                    s.push(char::from_u32(*m).unwrap());
                }
            }
            s.push('\u{202C}');
            let n = normalize(&s);
            let expected = base.split_whitespace().collect::<Vec<_>>().join(" ");
            prop_assert_eq!(n.text.replace(' ', ""), expected.replace(' ', ""));
        }

        #[test]
        fn entity_slicing_never_panics(s in "\\PC{0,64}", offset in 0u32..200, length in 0u32..200) {
            let e = Entity { kind: EntityKind::TextUrl, offset, length, url: Some("https://x.y".into()) };
            let _ = entity_text(&s, &e);
            let _ = utf16_slice(&s, offset as usize, length as usize);
            let m = Message { text: s.clone(), entities: vec![e], ..Message::default() };
            let _ = shipped().check_stateless(&m);
        }
    }

    #[test]
    fn a_megabyte_message_is_handled() {
        let mut text = String::new();
        while text.len() < 1 << 20 {
            text.push_str("зaрaботок 💰 https://bit.ly/x \u{200B}ж\u{301}\u{302} ");
        }
        let v = shipped().check_text(&text);
        assert!(v.score > 0.5);
    }
}

/// `count` deterministic texts of up to `max_pieces - 1` pieces each, for comparing a fast path
/// with its reference on odd mixes of characters.
pub(crate) fn random_texts(pieces: &[&str], max_pieces: u64, count: usize) -> Vec<String> {
    let mut rng = super::classifier::Rng(0x9e37_79b9_7f4a_7c15);
    let mut next = move || rng.next();
    (0..count)
        .map(|_| {
            let n = next() % max_pieces;
            (0..n)
                .map(|_| pieces[(next() % pieces.len() as u64) as usize])
                .collect()
        })
        .collect()
}
