//! The admin chat and the bot's private chats, offline: commands only from authorised admins
//! (others audited, never answered), report buttons, appeals into Alerts, members' data requests.

use warden::app::admin_desk::AdminDesk;
use warden::app::commands;
use warden::app::pipeline::{AlertKind, Pipeline};
use warden::config::Config;
use warden::model::{Event, Message, Person};
use warden::telegram::admin::{AdminAuth, ReportButton};
use warden::telegram::gateway::ReportTarget;
use warden::telegram::updates::ButtonPress;
use warden_store::Store;

const T0: i64 = 1_772_445_600;
const ADMIN_CHAT: i64 = -1_000_000_000_900;
const GROUP: i64 = -1_000_000_000_100;
const ADMIN: i64 = 11;
const STRANGER: i64 = 66;
const SPAMMER: i64 = 42;

fn setup(dir: &std::path::Path) -> (Pipeline, AdminDesk) {
    let store = Store::open(&dir.join("w.db")).unwrap();
    let mut pipeline = Pipeline::new(&Config::default(), store, T0).unwrap();
    let spam = Message {
        chat_id: GROUP,
        id: 5,
        date: T0,
        from: Person {
            id: SPAMMER,
            first_name: "Mal".into(),
            ..Person::default()
        },
        text: "💰💰 EARN $500 A DAY from home!!! Write to @rich_fast_bot, limited places 🔥🔥"
            .into(),
        ..Message::default()
    };
    pipeline.handle(&Event::Message(spam)).unwrap();
    pipeline.store().writer().flush().unwrap();
    let desk = AdminDesk {
        admin_chat: Some(ADMIN_CHAT),
        auth: AdminAuth {
            admin_ids: vec![ADMIN],
            chat_admins: Vec::new(),
        },
    };
    (pipeline, desk)
}

fn say(chat_id: i64, from: i64, id: i64, text: &str) -> Message {
    Message {
        chat_id,
        id,
        date: T0 + 10,
        from: Person {
            id: from,
            first_name: format!("U{from}"),
            ..Person::default()
        },
        text: text.into(),
        ..Message::default()
    }
}

fn no_reports(_: i64) -> Option<ReportTarget> {
    None
}

fn ban_actions(pipeline: &Pipeline) -> usize {
    pipeline
        .store()
        .reader()
        .unwrap()
        .actions(None, None, None, 100)
        .unwrap()
        .items
        .iter()
        .filter(|a| a.kind == "ban" && a.user_id == Some(SPAMMER))
        .count()
}

#[test]
fn only_authorised_admins_are_obeyed_and_refusals_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let (mut pipeline, desk) = setup(dir.path());
    let before = ban_actions(&pipeline);

    let refused = desk
        .route(
            &mut pipeline,
            &say(ADMIN_CHAT, STRANGER, 1, "/ban 42 spam"),
            &no_reports,
        )
        .expect("admin chat messages never reach the pipeline");
    assert!(refused.is_empty(), "strangers get no answer: {refused:?}");
    pipeline.store().writer().flush().unwrap();
    assert_eq!(ban_actions(&pipeline), before);
    let filter = warden_store::AuditFilter {
        action: Some("refused_admin_command".into()),
        ..Default::default()
    };
    let audit = pipeline
        .store()
        .reader()
        .unwrap()
        .audit_page(&filter, None, 50)
        .unwrap();
    assert!(
        audit
            .items
            .iter()
            .any(|a| a.action == "refused_admin_command" && a.user_id == Some(STRANGER)),
        "the attempt is audited"
    );

    let replies = desk
        .route(
            &mut pipeline,
            &say(ADMIN_CHAT, ADMIN, 2, "/ban 42 spam wave"),
            &no_reports,
        )
        .unwrap();
    assert_eq!(replies.len(), 1);
    assert!(replies[0].text.contains("ban of 42"), "{replies:?}");
    assert_eq!(replies[0].reply_to, Some(2));
    assert_eq!(ban_actions(&pipeline), before + 1);

    let usage = desk
        .route(
            &mut pipeline,
            &say(ADMIN_CHAT, ADMIN, 3, "/ban"),
            &no_reports,
        )
        .unwrap();
    assert!(usage[0].text.contains("/ban"), "{usage:?}");

    let summary = desk
        .route(
            &mut pipeline,
            &say(ADMIN_CHAT, ADMIN, 4, "/risk 42"),
            &no_reports,
        )
        .unwrap();
    assert!(summary[0].text.contains("risk"), "{summary:?}");

    assert!(
        desk.route(&mut pipeline, &say(GROUP, ADMIN, 9, "/ban 42"), &no_reports)
            .is_none(),
        "group messages go to the pipeline"
    );
}

#[test]
fn report_buttons_ban_unflag_and_explain() {
    let dir = tempfile::tempdir().unwrap();
    let (mut pipeline, desk) = setup(dir.path());
    let press = |user_id: i64, button: ReportButton| ButtonPress {
        chat_id: ADMIN_CHAT,
        message_id: 700,
        user_id,
        data: button.encode(),
        date: 1_700_000_000,
        query_id: 5,
    };
    let info = ReportButton::Info {
        chat: GROUP,
        message: 5,
    };
    assert!(
        desk.button(&mut pipeline, &press(STRANGER, info))
            .is_empty()
    );
    let explained = desk.button(&mut pipeline, &press(ADMIN, info));
    assert!(explained[0].text.contains("message 5"), "{explained:?}");
    assert!(
        explained[0].text.contains("•"),
        "each hit listed: {explained:?}"
    );

    let not_spam = ReportButton::NotSpam {
        chat: GROUP,
        message: 5,
        user: SPAMMER,
    };
    let answer = desk.button(&mut pipeline, &press(ADMIN, not_spam));
    assert!(answer[0].text.contains("labelled ham"), "{answer:?}");
    let labels = pipeline.store().reader().unwrap().all_labels().unwrap();
    assert!(
        labels
            .iter()
            .any(|l| l.label == "ham" && l.user_id == Some(SPAMMER))
    );
}

#[test]
fn replies_to_a_report_label_and_explain_its_message() {
    let dir = tempfile::tempdir().unwrap();
    let (mut pipeline, desk) = setup(dir.path());
    let reports = |id: i64| {
        (id == 700).then_some(ReportTarget {
            chat_id: GROUP,
            message_id: 5,
            user_id: SPAMMER,
        })
    };
    let reply = |id: i64, text: &str, to: i64| Message {
        reply_to: Some(to),
        ..say(ADMIN_CHAT, ADMIN, id, text)
    };
    let check = desk
        .route(&mut pipeline, &reply(20, "/check", 700), &reports)
        .unwrap();
    assert!(check[0].text.contains("message 5"), "{check:?}");
    let spam = desk
        .route(&mut pipeline, &reply(21, "/spam", 700), &reports)
        .unwrap();
    assert!(spam[0].text.contains("labelled spam"), "{spam:?}");
    let unknown = desk
        .route(&mut pipeline, &reply(22, "/ham", 699), &reports)
        .unwrap();
    assert!(unknown[0].text.contains("recent reports"), "{unknown:?}");
    let bare = desk
        .route(
            &mut pipeline,
            &say(ADMIN_CHAT, ADMIN, 23, "/spam"),
            &reports,
        )
        .unwrap();
    assert!(bare[0].text.contains("reply"), "{bare:?}");
}

#[test]
fn appeals_reach_alerts_and_acceptance_forgives() {
    let dir = tempfile::tempdir().unwrap();
    let (mut pipeline, desk) = setup(dir.path());
    let private = |text: &str| say(SPAMMER, SPAMMER, 1, text);

    let usage = desk
        .route(&mut pipeline, &private("/appeal"), &no_reports)
        .unwrap();
    assert!(usage[0].text.starts_with("/appeal"));
    let ok = desk
        .route(
            &mut pipeline,
            &private("/appeal I was hacked, it is fixed now"),
            &no_reports,
        )
        .unwrap();
    assert!(ok[0].text.contains("reached the moderators"));
    let alert = pipeline
        .alerts()
        .iter()
        .find(|a| a.kind == AlertKind::Appeal)
        .expect("the appeal is an alert")
        .clone();
    assert_eq!(alert.user_id, Some(SPAMMER));
    assert!(alert.summary.contains("I was hacked"));

    let notice = commands::apply(
        &mut pipeline,
        "ann",
        warden_ui::Command::AcceptAlert { alert: alert.id },
    );
    assert!(!notice.is_error, "{}", notice.text);
    assert!(
        notice.text.contains("appeal of 42 accepted"),
        "{}",
        notice.text
    );
    assert!(pipeline.alerts().iter().all(|a| a.id != alert.id));

    let privacy = desk
        .route(&mut pipeline, &private("/privacy"), &no_reports)
        .unwrap();
    assert!(privacy[0].text.contains("/forgetme"));
    let mine = desk
        .route(&mut pipeline, &private("/mydata"), &no_reports)
        .unwrap();
    assert!(mine[0].text.contains("1 recent message(s)"), "{mine:?}");
    let forgot = desk
        .route(&mut pipeline, &private("/forgetme"), &no_reports)
        .unwrap();
    assert!(forgot[0].text.starts_with("Done"), "{forgot:?}");
    let history = pipeline
        .store()
        .reader()
        .unwrap()
        .user_history(SPAMMER, None)
        .unwrap();
    assert!(history.recent_messages.iter().all(|m| m.text.is_none()));
}
