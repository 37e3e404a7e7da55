//! The simulated community: agents with plans in a time-ordered queue. A plan becomes an event only
//! if the chat's current state lets it through, so actions taken through [`super::SimGateway`]
//! change what happens next.

use crate::action::{Action, ActionKind, GatewayError};
use crate::model::{
    Button, ButtonPress, ChatId, ChatKind, Entity, EntityKind, Event, Forward, JoinKind, MediaKind,
    Message, MessageId, OutgoingMessage, Person, SenderChat, Timestamp, UserId,
};
use crate::policy::captcha::{parse_button, reader_answer};
use crate::sim::chatter::Chatter;
use crate::sim::rng::Rng;
use crate::sim::scenario::{BanTarget, Language, Mutation, Scenario, Tactic};
use crate::sim::truth::{Role, Truth};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, VecDeque};

/// The Bot API's placeholder sender of messages posted on behalf of a channel.
pub const CHANNEL_BOT_ID: UserId = 136_817_688;

#[derive(Debug, Clone)]
pub(crate) struct Agent {
    pub person: Person,
    pub role: Role,
    pub language: Language,
    pub raid_id: Option<u32>,
    pub ring_id: Option<u32>,
    pub tactic: Option<Tactic>,
    /// The link this account pushes.
    pub link: Option<String>,
    /// A shared script (raids post near-identical text).
    pub script: Option<String>,
    pub mutations: Vec<Mutation>,
    pub forward_share: f64,
    /// Mean seconds between messages of a regular.
    pub mean_gap: f64,
    pub sender_chat: Option<SenderChat>,
}

impl Agent {
    fn trusted_by_default(&self) -> bool {
        matches!(self.role, Role::Regular | Role::Admin)
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct ChatState {
    pub id: ChatId,
    pub title: String,
    pub language: Language,
    pub admin_id: UserId,
    pub bunker: bool,
    pub lockdown: bool,
    pub slow_mode: u64,
    pub members: HashSet<UserId>,
    pub banned: HashSet<UserId>,
    pub muted_until: HashMap<UserId, Timestamp>,
    pub trusted: HashSet<UserId>,
    pub last_post: HashMap<UserId, Timestamp>,
    pub deleted: HashSet<MessageId>,
    pub by_user: HashMap<UserId, Vec<MessageId>>,
    /// Text of every message, for edits (evasion).
    pub texts: HashMap<MessageId, (UserId, String)>,
    pub next_message_id: MessageId,
    /// The chat's latest harmless lines: people rarely repeat each other word for word.
    pub recent_ham: std::collections::VecDeque<String>,
}

/// How many of a chat's latest harmless lines a new one avoids repeating.
const RECENT_HAM: usize = 40;

#[derive(Debug, Clone)]
enum Plan {
    ChatSeen {
        chat: usize,
    },
    Join {
        user: UserId,
        chat: usize,
        then: Option<(i64, Option<u32>)>,
    },
    /// `remaining: None` is a regular's open-ended posting.
    Post {
        user: UserId,
        chat: usize,
        remaining: Option<u32>,
    },
    EditToSpam {
        user: UserId,
        chat: usize,
    },
    AdminBan {
        chat: usize,
        target: BanTarget,
    },
    /// A newcomer presses a button under Warden's captcha.
    Press {
        chat: usize,
        user: UserId,
        message_id: MessageId,
        data: String,
    },
}

/// What comes out of the simulation: chat events, and presses of Warden's own buttons.
// Events are nearly every item: boxing them would add an allocation per message.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum SimItem {
    Event(Event, Truth),
    Press(ButtonPress),
}

impl SimItem {
    pub fn date(&self) -> Timestamp {
        match self {
            SimItem::Event(event, _) => event.date(),
            SimItem::Press(press) => press.date,
        }
    }
}

/// How the join captcha went, by who really joined (scored by the simulator's ground truth).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptchaTally {
    pub challenged: u64,
    /// People (regulars, newcomers, lurkers, ring operators) who answered right and stayed.
    pub people_passed: u64,
    /// People removed by the captcha: each one a wrong removal.
    pub people_removed: u64,
    /// Spam and raid bots removed by the captcha.
    pub bots_removed: u64,
    /// Bots that guessed the right button.
    pub bots_passed: u64,
}

/// Why planned messages did not appear (the effect of actions, for reports and tests).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppressed {
    pub banned_or_removed: u64,
    pub muted: u64,
    pub bunker: u64,
    pub lockdown: u64,
    /// Messages pushed later by slow mode (they still appear).
    pub slowed: u64,
}

/// An action the simulated Telegram accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedAction {
    pub at: Timestamp,
    pub action: Action,
}

/// What a chat looks like right now (for tests and the demo's status line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatStatus {
    pub id: ChatId,
    pub title: String,
    pub kind: ChatKind,
    pub bunker: bool,
    pub lockdown: bool,
    pub slow_mode: u64,
    pub members: usize,
    pub banned: usize,
    pub admin_id: UserId,
}

pub(crate) struct World {
    pub seed: u64,
    pub start: Timestamp,
    pub end: Timestamp,
    pub now: Timestamp,
    rng: Rng,
    chatter: Chatter,
    pub chats: Vec<ChatState>,
    pub agents: HashMap<UserId, Agent>,
    queue: BinaryHeap<Reverse<(Timestamp, u64)>>,
    plans: HashMap<u64, Plan>,
    next_seq: u64,
    pending: VecDeque<SimItem>,
    /// Captchas Warden posted and has not settled yet: (chat index, user).
    captcha_open: HashSet<(usize, UserId)>,
    captcha_rng: Rng,
    pub captcha: CaptchaTally,
    pub suppressed: Suppressed,
    pub applied: Vec<AppliedAction>,
    pub applied_keys: HashSet<String>,
    pub events_out: u64,
}

fn minute(start: Timestamp, at_minute: f64) -> Timestamp {
    start + (at_minute * 60.0).round() as i64
}

impl World {
    pub fn new(scenario: &Scenario, seed: u64, chatter: Chatter) -> World {
        let mut world = World {
            seed,
            start: scenario.start(),
            end: scenario.end(),
            now: scenario.start(),
            rng: Rng::derive(seed, "world"),
            chatter,
            chats: Vec::new(),
            agents: HashMap::new(),
            queue: BinaryHeap::new(),
            plans: HashMap::new(),
            next_seq: 0,
            pending: VecDeque::new(),
            captcha_open: HashSet::new(),
            captcha_rng: Rng::derive(seed, "captcha"),
            captcha: CaptchaTally::default(),
            suppressed: Suppressed::default(),
            applied: Vec::new(),
            applied_keys: HashSet::new(),
            events_out: 0,
        };
        world.populate(scenario);
        world
    }

    fn schedule(&mut self, at: Timestamp, plan: Plan) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.plans.insert(seq, plan);
        self.queue.push(Reverse((at, seq)));
    }

    fn fresh_id(&mut self, lo: i64, hi: i64) -> UserId {
        loop {
            let id = self.rng.range(lo, hi);
            if !self.agents.contains_key(&id) {
                return id;
            }
        }
    }

    fn speaker_language(&mut self, chat_language: Language) -> Language {
        match chat_language {
            Language::Mixed => {
                if self.rng.chance(0.5) {
                    Language::Ru
                } else {
                    Language::En
                }
            }
            other => other,
        }
    }

    fn make_person(
        &mut self,
        id: UserId,
        language: Language,
        photo_chance: f64,
        username_chance: f64,
    ) -> Person {
        let (first, last) = self.chatter.name(language, &mut self.rng);
        let username = self.rng.chance(username_chance).then(|| {
            format!(
                "{}_{}",
                transliterate(&first).to_lowercase(),
                self.rng.below(10_000)
            )
        });
        let last_name = self.rng.chance(0.7).then_some(last);
        Person {
            id,
            first_name: first,
            last_name,
            username,
            has_photo: Some(self.rng.chance(photo_chance)),
            ..Person::default()
        }
    }

    fn base_agent(person: Person, role: Role, language: Language) -> Agent {
        Agent {
            person,
            role,
            language,
            raid_id: None,
            ring_id: None,
            tactic: None,
            link: None,
            script: None,
            mutations: Vec::new(),
            forward_share: 0.0,
            mean_gap: 0.0,
            sender_chat: None,
        }
    }

    fn populate(&mut self, scenario: &Scenario) {
        let start = self.start;
        let duration = self.end - self.start;
        for (index, spec) in scenario.chats.iter().enumerate() {
            let admin_id = self.fresh_id(10_000_000, 900_000_000);
            let admin_language = self.speaker_language(spec.language);
            let mut admin = self.make_person(admin_id, admin_language, 1.0, 1.0);
            admin.username = Some(format!("admin_{}", index + 1));
            self.agents.insert(
                admin_id,
                World::base_agent(admin, Role::Admin, admin_language),
            );
            let mut chat = ChatState {
                id: scenario.chat_id(index),
                title: spec.title.clone(),
                language: spec.language,
                admin_id,
                next_message_id: 1000 + self.rng.below(50_000) as i64,
                ..ChatState::default()
            };
            chat.members.insert(admin_id);
            self.chats.push(chat);
            self.schedule(start, Plan::ChatSeen { chat: index });

            let mean_gap = 3600.0 * f64::from(spec.regulars) / spec.messages_per_hour;
            for _ in 0..spec.regulars {
                let id = self.fresh_id(10_000_000, 1_500_000_000);
                let language = self.speaker_language(spec.language);
                let person = self.make_person(id, language, 0.9, 0.6);
                let mut agent = World::base_agent(person, Role::Regular, language);
                agent.mean_gap = mean_gap;
                self.agents.insert(id, agent);
                self.chats[index].members.insert(id);
                let first = start + self.rng.exp_gap(mean_gap);
                self.schedule(
                    first,
                    Plan::Post {
                        user: id,
                        chat: index,
                        remaining: None,
                    },
                );
            }
            for _ in 0..spec.lurkers {
                let id = self.fresh_id(10_000_000, 2_500_000_000);
                let language = self.speaker_language(spec.language);
                let person = self.make_person(id, language, 0.6, 0.4);
                self.agents
                    .insert(id, World::base_agent(person, Role::Lurker, language));
                self.chats[index].members.insert(id);
                if self.rng.chance(0.15) {
                    let at = start + self.rng.range(0, duration - 1);
                    self.schedule(
                        at,
                        Plan::Post {
                            user: id,
                            chat: index,
                            remaining: Some(0),
                        },
                    );
                }
            }
            for _ in 0..spec.newcomers {
                let id = self.fresh_id(5_000_000_000, 7_500_000_000);
                let language = self.speaker_language(spec.language);
                let person = self.make_person(id, language, 0.8, 0.5);
                let mut agent = World::base_agent(person, Role::Newcomer, language);
                agent.mean_gap = 900.0;
                self.agents.insert(id, agent);
                let at = start + self.rng.range(0, duration * 4 / 5);
                let delay = self.rng.range(30, 600);
                let more = self.rng.below(3) as u32;
                self.schedule(
                    at,
                    Plan::Join {
                        user: id,
                        chat: index,
                        then: Some((delay, Some(more))),
                    },
                );
            }
        }

        for wave in &scenario.spam_waves {
            let chat = scenario.chat_index(wave.chat.as_deref()).unwrap_or(0);
            let at = minute(start, wave.at_minute);
            for _ in 0..wave.spammers {
                let id = self.fresh_id(7_000_000_000, 8_200_000_000);
                let language = self.speaker_language(self.chats[chat].language);
                let person = self.make_person(id, language, 0.3, 0.5);
                let mut agent = World::base_agent(person, Role::Spammer, language);
                agent.link = Some(self.chatter.spam_link(&mut self.rng));
                agent.mutations = wave.mutations.clone();
                agent.forward_share = wave.forward_share;
                agent.mean_gap = 120.0;
                self.agents.insert(id, agent);
                let join = at + self.rng.range(0, (wave.spread_minutes * 60.0) as i64);
                let delay = self.rng.range(10, 180);
                let then = Some((delay, Some(wave.messages_each.saturating_sub(1))));
                self.schedule(
                    join,
                    Plan::Join {
                        user: id,
                        chat,
                        then,
                    },
                );
            }
        }

        for (raid_index, raid) in scenario.raids.iter().enumerate() {
            let chat = scenario.chat_index(raid.chat.as_deref()).unwrap_or(0);
            let at = minute(start, raid.at_minute);
            let language = self.speaker_language(self.chats[chat].language);
            let link = self.chatter.spam_link(&mut self.rng);
            let script = self.chatter.spam(language, &link, &mut self.rng);
            for _ in 0..raid.accounts {
                let id = self.fresh_id(7_800_000_000, 8_300_000_000);
                let person = self.make_person(id, language, 0.05, 0.2);
                let mut agent = World::base_agent(person, Role::Raider, language);
                agent.raid_id = Some(raid_index as u32 + 1);
                agent.link = Some(link.clone());
                agent.script = Some(script.clone());
                agent.mutations = vec![Mutation::Emoji, Mutation::Lookalike];
                agent.mean_gap = 15.0;
                self.agents.insert(id, agent);
                let join = at + self.rng.range(0, i64::from(raid.join_window_seconds));
                let delay = i64::from(raid.post_delay_seconds) + self.rng.range(0, 15);
                let then = Some((delay, Some(raid.messages_each.saturating_sub(1))));
                self.schedule(
                    join,
                    Plan::Join {
                        user: id,
                        chat,
                        then,
                    },
                );
            }
        }

        for (ring_index, ring) in scenario.rings.iter().enumerate() {
            let chats: Vec<usize> = if ring.chats.is_empty() {
                (0..self.chats.len()).collect()
            } else {
                ring.chats
                    .iter()
                    .filter_map(|t| scenario.chat_index(Some(t)))
                    .collect()
            };
            let link = ring
                .link
                .clone()
                .unwrap_or_else(|| self.chatter.spam_link(&mut self.rng));
            let language = self.speaker_language(self.chats[chats[0]].language);
            let (first, last) = self.chatter.name(language, &mut self.rng);
            let handle = transliterate(&first).to_lowercase();
            let mut id = self.fresh_id(6_900_000_000, 7_000_000_000);
            let at = minute(start, ring.at_minute);
            for member in 0..ring.members {
                while self.agents.contains_key(&id) {
                    id += 1;
                }
                let person = Person {
                    id,
                    first_name: ring_name_variant(&first, member, &mut self.rng),
                    last_name: Some(last.clone()),
                    username: Some(format!(
                        "{handle}_{}",
                        10 + member * (1 + self.rng.below(2) as u32)
                    )),
                    has_photo: Some(member % 2 == 0),
                    ..Person::default()
                };
                let mut agent = World::base_agent(person, Role::RingMember, language);
                agent.ring_id = Some(ring_index as u32 + 1);
                agent.link = Some(link.clone());
                agent.mean_gap = 600.0;
                self.agents.insert(id, agent);
                for &chat in &chats {
                    let join = at + self.rng.range(0, (ring.spread_minutes * 60.0) as i64);
                    let delay = self.rng.range(60, 900);
                    let then = Some((delay, Some(ring.messages_each.saturating_sub(1))));
                    self.schedule(
                        join,
                        Plan::Join {
                            user: id,
                            chat,
                            then,
                        },
                    );
                }
                id += 1 + self.rng.below(3) as i64;
            }
        }

        for evasion in &scenario.evasion {
            let chat = scenario.chat_index(evasion.chat.as_deref()).unwrap_or(0);
            let at = minute(start, evasion.at_minute);
            for _ in 0..evasion.count {
                let language = self.speaker_language(self.chats[chat].language);
                let link = self.chatter.spam_link(&mut self.rng);
                match evasion.tactic {
                    Tactic::EditAfterTrust => {
                        let id = self.fresh_id(5_500_000_000, 7_000_000_000);
                        let person = self.make_person(id, language, 0.9, 0.6);
                        let mut agent = World::base_agent(person, Role::Spammer, language);
                        agent.tactic = Some(Tactic::EditAfterTrust);
                        agent.link = Some(link);
                        let trust = (evasion.trust_minutes * 60.0) as i64;
                        agent.mean_gap = (trust / 4).max(60) as f64;
                        self.agents.insert(id, agent);
                        let join = at + self.rng.range(0, 120);
                        self.schedule(
                            join,
                            Plan::Join {
                                user: id,
                                chat,
                                then: Some((60, Some(3))),
                            },
                        );
                        let edit_at = join + trust + self.rng.range(0, 300);
                        self.schedule(edit_at, Plan::EditToSpam { user: id, chat });
                    }
                    Tactic::AsChannel => {
                        let channel_id =
                            -1_000_000_000_000 - self.rng.range(1_500_000_000, 2_500_000_000);
                        let title = match language {
                            Language::Ru => "Заработок онлайн 💰",
                            _ => "Crypto Signals Daily 💰",
                        };
                        let sender = SenderChat {
                            id: channel_id,
                            title: title.to_string(),
                            username: Some(format!("signals_{}", self.rng.below(100_000))),
                        };
                        let person = Person {
                            id: CHANNEL_BOT_ID,
                            first_name: "Channel".into(),
                            username: Some("Channel_Bot".into()),
                            is_bot: true,
                            ..Person::default()
                        };
                        let mut agent = World::base_agent(person, Role::Spammer, language);
                        agent.tactic = Some(Tactic::AsChannel);
                        agent.link = Some(link);
                        agent.sender_chat = Some(sender);
                        agent.mean_gap = 300.0;
                        agent.mutations = vec![Mutation::Emoji, Mutation::Link];
                        self.agents.insert(channel_id, agent);
                        // A channel needs no join: it posts straight away.
                        self.chats[chat].members.insert(channel_id);
                        let post = at + self.rng.range(0, 300);
                        self.schedule(
                            post,
                            Plan::Post {
                                user: channel_id,
                                chat,
                                remaining: Some(1),
                            },
                        );
                    }
                    Tactic::Buttons => {
                        let id = self.fresh_id(7_000_000_000, 8_200_000_000);
                        let person = self.make_person(id, language, 0.5, 0.5);
                        let mut agent = World::base_agent(person, Role::Spammer, language);
                        agent.tactic = Some(Tactic::Buttons);
                        agent.link = Some(link);
                        agent.mean_gap = 300.0;
                        self.agents.insert(id, agent);
                        let join = at + self.rng.range(0, 300);
                        let delay = self.rng.range(20, 200);
                        self.schedule(
                            join,
                            Plan::Join {
                                user: id,
                                chat,
                                then: Some((delay, Some(0))),
                            },
                        );
                    }
                }
            }
        }

        for ban in &scenario.admin_bans {
            let chat = scenario.chat_index(ban.chat.as_deref()).unwrap_or(0);
            for n in 0..ban.count {
                let at = minute(start, ban.at_minute) + i64::from(n) * 20;
                self.schedule(
                    at,
                    Plan::AdminBan {
                        chat,
                        target: ban.target,
                    },
                );
            }
        }
    }

    /// The next event in simulated time, or `None` when the run is over. Button presses are
    /// skipped: only runs that post captchas (and read [`World::next_item`]) get any.
    pub fn next_event(&mut self) -> Option<(Event, Truth)> {
        loop {
            if let SimItem::Event(event, truth) = self.next_item()? {
                return Some((event, truth));
            }
        }
    }

    /// The next event or button press in simulated time, or `None` when the run is over.
    pub fn next_item(&mut self) -> Option<SimItem> {
        loop {
            if let Some(out) = self.pending.pop_front() {
                if matches!(out, SimItem::Event(..)) {
                    self.events_out += 1;
                }
                return Some(out);
            }
            let Reverse((at, seq)) = self.queue.pop()?;
            let plan = self
                .plans
                .remove(&seq)
                .expect("every queued seq has a plan");
            if at > self.end {
                self.queue.clear();
                self.plans.clear();
                return None;
            }
            self.now = self.now.max(at);
            self.run(at, plan);
        }
    }

    fn truth_for(&self, user: UserId, spam: bool) -> Truth {
        match self.agents.get(&user) {
            Some(agent) => Truth {
                spam,
                role: agent.role,
                user_id: Some(user),
                raid_id: agent.raid_id,
                ring_id: agent.ring_id,
                tactic: agent.tactic,
            },
            None => Truth {
                spam,
                user_id: Some(user),
                ..Truth::system()
            },
        }
    }

    fn run(&mut self, at: Timestamp, plan: Plan) {
        match plan {
            Plan::ChatSeen { chat } => {
                let c = &self.chats[chat];
                let event = Event::ChatSeen {
                    chat_id: c.id,
                    title: c.title.clone(),
                    kind: ChatKind::Supergroup,
                    date: at,
                };
                self.pending
                    .push_back(SimItem::Event(event, Truth::system()));
            }
            Plan::Join { user, chat, then } => {
                if self.chats[chat].banned.contains(&user) {
                    self.suppressed.banned_or_removed += 1;
                    return;
                }
                let Some(role) = self.agents.get(&user).map(|a| a.role) else {
                    return;
                };
                let how = match role {
                    Role::RingMember | Role::Raider => JoinKind::InviteLink {
                        link: format!("https://t.me/+{}", invite_token(self.chats[chat].id)),
                        inviter: None,
                    },
                    Role::Newcomer if self.rng.chance(0.3) => {
                        let inviter = self.pick_member(chat, Role::Regular);
                        inviter
                            .map(|by| JoinKind::AddedBy { by })
                            .unwrap_or(JoinKind::Direct)
                    }
                    _ => JoinKind::Direct,
                };
                let event = Event::Joined {
                    chat_id: self.chats[chat].id,
                    user: self.agents[&user].person.clone(),
                    date: at,
                    how,
                };
                let truth = self.truth_for(user, false);
                self.chats[chat].members.insert(user);
                self.pending.push_back(SimItem::Event(event, truth));
                if let Some((delay, remaining)) = then {
                    self.schedule(
                        at + delay.max(1),
                        Plan::Post {
                            user,
                            chat,
                            remaining,
                        },
                    );
                }
            }
            Plan::Post {
                user,
                chat,
                remaining,
            } => self.post(at, user, chat, remaining),
            Plan::EditToSpam { user, chat } => {
                let state = &self.chats[chat];
                if state.banned.contains(&user) || !state.members.contains(&user) {
                    self.suppressed.banned_or_removed += 1;
                    return;
                }
                let Some(&target) = state
                    .by_user
                    .get(&user)
                    .and_then(|ids| ids.iter().find(|id| !state.deleted.contains(id)))
                else {
                    return;
                };
                let agent = self.agents[&user].clone();
                let link = agent.link.clone().unwrap_or_default();
                let text = self.chatter.spam(agent.language, &link, &mut self.rng);
                let mut message = compose(&mut self.chats[chat], &agent, at, text);
                message.id = target;
                message.edited = true;
                self.chats[chat]
                    .texts
                    .insert(target, (user, message.text.clone()));
                let truth = self.truth_for(user, true);
                self.pending
                    .push_back(SimItem::Event(Event::Edited(message), truth));
            }
            Plan::AdminBan { chat, target } => {
                let role = match target {
                    BanTarget::Spammer => Role::Spammer,
                    BanTarget::Raider => Role::Raider,
                    BanTarget::RingMember => Role::RingMember,
                };
                let Some(user) = self.pick_member(chat, role) else {
                    return;
                };
                let state = &mut self.chats[chat];
                state.banned.insert(user);
                state.members.remove(&user);
                let event = Event::RestrictedByAdmin {
                    chat_id: state.id,
                    user_id: user,
                    admin_id: state.admin_id,
                    date: at,
                    banned: true,
                    until: None,
                };
                let truth = self.truth_for(user, false);
                self.pending.push_back(SimItem::Event(event, truth));
            }
            Plan::Press {
                chat,
                user,
                message_id,
                data,
            } => {
                let state = &self.chats[chat];
                if state.members.contains(&user) && !state.deleted.contains(&message_id) {
                    self.pending.push_back(SimItem::Press(ButtonPress {
                        chat_id: state.id,
                        message_id,
                        user_id: user,
                        data,
                        date: at,
                        query_id: 0,
                    }));
                }
            }
        }
    }

    /// Warden posted a message. A captcha addressed to a simulated account gets answered the way
    /// that account would: people read it and press the named button after a few seconds; most
    /// bots never look, and the rest press a button at random.
    pub fn post_as_warden(
        &mut self,
        chat_id: ChatId,
        message: &OutgoingMessage,
        now: Timestamp,
    ) -> Result<MessageId, GatewayError> {
        let chat = self
            .chat_index(chat_id)
            .ok_or_else(|| GatewayError::Permanent(format!("chat {chat_id} not found")))?;
        let state = &mut self.chats[chat];
        let message_id = state.next_message_id;
        state.next_message_id += 1;
        state.texts.insert(message_id, (0, message.text.clone()));
        let buttons: Vec<(String, String)> = message.buttons.concat();
        let Some(user) = buttons
            .first()
            .and_then(|(_, data)| parse_button(data))
            .map(|(user, _)| user)
        else {
            return Ok(message_id);
        };
        let Some(role) = self.agents.get(&user).map(|a| a.role) else {
            return Ok(message_id);
        };
        self.captcha_open.insert((chat, user));
        self.captcha.challenged += 1;
        let rng = &mut self.captcha_rng;
        let press = match role {
            Role::Spammer | Role::Raider => {
                if rng.chance(BOT_BLIND_PRESS_SHARE) {
                    let pick = rng.below(buttons.len() as u64) as usize;
                    Some((rng.range(1, 5), buttons[pick].1.clone()))
                } else {
                    None
                }
            }
            _ => reader_answer(&message.text, &buttons)
                .map(|data| (rng.range(4, 30), data.to_string())),
        };
        if let Some((delay, data)) = press {
            self.schedule(
                now + delay,
                Plan::Press {
                    chat,
                    user,
                    message_id,
                    data,
                },
            );
        }
        Ok(message_id)
    }

    /// Warden deleted one of its own messages.
    pub fn unpost_as_warden(
        &mut self,
        chat_id: ChatId,
        message_id: MessageId,
    ) -> Result<(), GatewayError> {
        let chat = self
            .chat_index(chat_id)
            .ok_or_else(|| GatewayError::Permanent(format!("chat {chat_id} not found")))?;
        self.chats[chat].deleted.insert(message_id);
        Ok(())
    }

    /// A captcha ended with `user` staying (`passed`) or removed.
    fn settle_captcha(&mut self, chat: usize, user: UserId, passed: bool) {
        if !self.captcha_open.remove(&(chat, user)) {
            return;
        }
        let person = self
            .agents
            .get(&user)
            .is_some_and(|a| !matches!(a.role, Role::Spammer | Role::Raider));
        let tally = &mut self.captcha;
        match (person, passed) {
            (true, true) => tally.people_passed += 1,
            (true, false) => tally.people_removed += 1,
            (false, true) => tally.bots_passed += 1,
            (false, false) => tally.bots_removed += 1,
        }
    }

    /// A current member with the given role, preferring those who already posted.
    fn pick_member(&mut self, chat: usize, role: Role) -> Option<UserId> {
        let state = &self.chats[chat];
        let mut candidates: Vec<UserId> = state
            .members
            .iter()
            .copied()
            .filter(|id| self.agents.get(id).is_some_and(|a| a.role == role))
            .collect();
        candidates.sort_unstable();
        let posted: Vec<UserId> = candidates
            .iter()
            .copied()
            .filter(|id| state.by_user.contains_key(id))
            .collect();
        let pool = if posted.is_empty() {
            candidates
        } else {
            posted
        };
        self.rng.pick(&pool).copied()
    }

    fn post(&mut self, at: Timestamp, user: UserId, chat: usize, remaining: Option<u32>) {
        let Some(agent) = self.agents.get(&user).cloned() else {
            return;
        };
        let state = &self.chats[chat];
        if state.banned.contains(&user) || !state.members.contains(&user) {
            self.suppressed.banned_or_removed += 1;
            return;
        }
        if state.slow_mode > 0
            && agent.role != Role::Admin
            && let Some(&last) = state.last_post.get(&user)
            && last + state.slow_mode as i64 > at
        {
            self.suppressed.slowed += 1;
            self.schedule(
                last + state.slow_mode as i64,
                Plan::Post {
                    user,
                    chat,
                    remaining,
                },
            );
            return;
        }
        let trusted = agent.trusted_by_default() || state.trusted.contains(&user);
        let blocked = if state
            .muted_until
            .get(&user)
            .is_some_and(|&until| until > at)
        {
            Some(&mut self.suppressed.muted)
        } else if state.lockdown && agent.role != Role::Admin {
            Some(&mut self.suppressed.lockdown)
        } else if state.bunker && !trusted {
            Some(&mut self.suppressed.bunker)
        } else {
            None
        };
        match blocked {
            Some(counter) => *counter += 1,
            None => {
                let (message, spam) = self.content(chat, &agent, at);
                let state = &mut self.chats[chat];
                state.last_post.insert(user, at);
                state.by_user.entry(user).or_default().push(message.id);
                state.texts.insert(message.id, (user, message.text.clone()));
                let truth = self.truth_for(user, spam);
                self.pending
                    .push_back(SimItem::Event(Event::Message(message), truth));
            }
        }
        let next = match remaining {
            None => Some(None),
            Some(0) => None,
            Some(n) => Some(Some(n - 1)),
        };
        if let Some(remaining) = next {
            let gap = match agent.role {
                Role::Raider => self.rng.range(5, 40),
                Role::Spammer if agent.tactic.is_none() => self.rng.range(30, 300),
                _ => self.rng.exp_gap(agent.mean_gap.max(30.0)),
            };
            self.schedule(
                at + gap,
                Plan::Post {
                    user,
                    chat,
                    remaining,
                },
            );
        }
    }

    /// The message an agent posts now, and whether it is spam.
    fn content(&mut self, chat: usize, agent: &Agent, at: Timestamp) -> (Message, bool) {
        let link = agent.link.clone().unwrap_or_default();
        let rng = &mut self.rng;
        match (agent.role, agent.tactic) {
            (Role::Spammer, Some(Tactic::EditAfterTrust))
            | (Role::Regular | Role::Newcomer | Role::Lurker | Role::Admin | Role::System, _) => {
                let recent = &mut self.chats[chat].recent_ham;
                let mut text = self.chatter.ham(agent.language, rng);
                for _ in 0..8 {
                    if !recent.contains(&text) {
                        break;
                    }
                    text = self.chatter.ham(agent.language, rng);
                }
                if recent.len() == RECENT_HAM {
                    recent.pop_front();
                }
                recent.push_back(text.clone());
                (compose(&mut self.chats[chat], agent, at, text), false)
            }
            (Role::Spammer, Some(Tactic::Buttons)) => {
                let text = match agent.language {
                    Language::Ru => "Полезный канал для всех, кто хочет больше зарабатывать 👇",
                    _ => "A useful resource for everyone who wants to earn more 👇",
                };
                let mut message = compose(&mut self.chats[chat], agent, at, text.to_string());
                message.buttons = vec![Button {
                    text: match agent.language {
                        Language::Ru => "Перейти".into(),
                        _ => "Open".into(),
                    },
                    url: Some(link),
                }];
                (message, true)
            }
            (Role::RingMember, _) => {
                let lead = self.chatter.ham(agent.language, rng);
                let text = match agent.language {
                    Language::Ru => format!("{lead}. Кстати, вот тут всё подробно: {link}"),
                    _ => format!("{lead}. Btw, it's all explained here: {link}"),
                };
                (compose(&mut self.chats[chat], agent, at, text), true)
            }
            (Role::Raider, _) => {
                let script = agent
                    .script
                    .clone()
                    .unwrap_or_else(|| self.chatter.spam(agent.language, &link, rng));
                let text = self.chatter.mutate(&script, &agent.mutations, rng);
                (compose(&mut self.chats[chat], agent, at, text), true)
            }
            (Role::Spammer, _) => {
                let base = self.chatter.spam(agent.language, &link, rng);
                let text = self.chatter.mutate(&base, &agent.mutations, rng);
                let forward = rng.chance(agent.forward_share);
                let mut message = compose(&mut self.chats[chat], agent, at, text);
                if forward {
                    message.forward = Some(Forward {
                        from_channel: true,
                        from_id: Some(-1_000_000_000_000 - rng.range(1_000_000_000, 2_000_000_000)),
                        from_name: Some("Trading Academy".into()),
                    });
                }
                if rng.chance(0.15) {
                    message.media = MediaKind::Photo;
                }
                (message, true)
            }
        }
    }

    pub fn chat_index(&self, chat_id: ChatId) -> Option<usize> {
        self.chats.iter().position(|c| c.id == chat_id)
    }

    pub fn status(&self) -> Vec<ChatStatus> {
        self.chats
            .iter()
            .map(|c| ChatStatus {
                id: c.id,
                title: c.title.clone(),
                kind: ChatKind::Supergroup,
                bunker: c.bunker,
                lockdown: c.lockdown,
                slow_mode: c.slow_mode,
                members: c.members.len(),
                banned: c.banned.len(),
                admin_id: c.admin_id,
            })
            .collect()
    }

    /// Carry out an action that passed fault injection. Idempotent per key.
    pub fn apply(&mut self, action: &Action, now: Timestamp) -> Result<(), GatewayError> {
        if self.applied_keys.contains(&action.idempotency_key) {
            return Ok(());
        }
        let chat = self
            .chat_index(action.chat_id)
            .ok_or_else(|| GatewayError::Permanent(format!("chat {} not found", action.chat_id)))?;
        let need_user = || {
            action.user_id.ok_or_else(|| {
                GatewayError::Permanent(format!("{} needs a user", action.kind.name()))
            })
        };
        let need_message = || {
            action.message_id.ok_or_else(|| {
                GatewayError::Permanent(format!("{} needs a message", action.kind.name()))
            })
        };
        let state = &mut self.chats[chat];
        match &action.kind {
            ActionKind::Delete | ActionKind::DeleteSilently => {
                let id = need_message()?;
                if !state.texts.contains_key(&id) {
                    return Err(GatewayError::Permanent(format!("message {id} not found")));
                }
                state.deleted.insert(id);
            }
            ActionKind::Purge => {
                let user = need_user()?;
                for id in state.by_user.get(&user).into_iter().flatten() {
                    state.deleted.insert(*id);
                }
            }
            ActionKind::Mute { seconds } => {
                let until = now.saturating_add(i64::try_from(*seconds).unwrap_or(i64::MAX));
                state.muted_until.insert(need_user()?, until);
            }
            ActionKind::Restrict => {
                state.muted_until.insert(need_user()?, Timestamp::MAX);
            }
            ActionKind::Unrestrict => {
                let user = need_user()?;
                state.muted_until.remove(&user);
                self.settle_captcha(chat, user, true);
            }
            ActionKind::Kick => {
                let user = need_user()?;
                state.members.remove(&user);
                self.settle_captcha(chat, user, false);
            }
            ActionKind::Ban { .. } => {
                let user = need_user()?;
                state.members.remove(&user);
                state.banned.insert(user);
            }
            ActionKind::Unban => {
                let user = need_user()?;
                if state.banned.remove(&user)
                    && let Some(agent) = self.agents.get(&user)
                    && agent.role.is_legit()
                {
                    // A wrongly banned member comes back after a while and carries on.
                    let remaining = (agent.role != Role::Regular).then_some(1);
                    self.schedule(
                        now + 300,
                        Plan::Join {
                            user,
                            chat,
                            then: Some((60, remaining)),
                        },
                    );
                }
            }
            ActionKind::Trust => {
                state.trusted.insert(need_user()?);
            }
            ActionKind::BunkerOn => state.bunker = true,
            ActionKind::BunkerOff => state.bunker = false,
            ActionKind::LockdownOn => state.lockdown = true,
            ActionKind::LockdownOff => state.lockdown = false,
            ActionKind::SlowMode { seconds } => state.slow_mode = *seconds,
            ActionKind::Warn
            | ActionKind::Strike
            | ActionKind::LabelSpam
            | ActionKind::LabelHam
            | ActionKind::RaidAlert
            | ActionKind::NotifyAdmin
            | ActionKind::AntiSpamOn
            | ActionKind::AntiSpamOff
            | ActionKind::ShadowMute
            | ActionKind::Throttle { .. } => {}
        }
        self.applied_keys.insert(action.idempotency_key.clone());
        self.applied.push(AppliedAction {
            at: now,
            action: action.clone(),
        });
        Ok(())
    }

    pub fn is_deleted(&self, chat_id: ChatId, message_id: MessageId) -> bool {
        self.chat_index(chat_id)
            .is_some_and(|i| self.chats[i].deleted.contains(&message_id))
    }

    /// Who really is behind each user id (for scorecards that only see ids).
    pub fn roles(&self) -> BTreeMap<UserId, Role> {
        self.agents.iter().map(|(id, a)| (*id, a.role)).collect()
    }
}

/// Share of spam and raid bots that press a captcha button at all (at random).
const BOT_BLIND_PRESS_SHARE: f64 = 0.25;

fn compose(state: &mut ChatState, agent: &Agent, at: Timestamp, text: String) -> Message {
    let id = state.next_message_id;
    state.next_message_id += 1;
    Message {
        chat_id: state.id,
        id,
        date: at,
        from: agent.person.clone(),
        entities: url_entities(&text),
        text,
        sender_chat: agent.sender_chat.clone(),
        ..Message::default()
    }
}

/// `Url` entities for the links in `text` (offsets in UTF-16 units, as Telegram sends them).
pub fn url_entities(text: &str) -> Vec<Entity> {
    let mut finder = linkify::LinkFinder::new();
    finder.kinds(&[linkify::LinkKind::Url]);
    finder
        .links(text)
        .map(|link| Entity {
            kind: EntityKind::Url,
            offset: utf16_len(&text[..link.start()]),
            length: utf16_len(link.as_str()),
            url: None,
        })
        .collect()
}

pub fn utf16_len(text: &str) -> u32 {
    text.chars().map(|c| c.len_utf16() as u32).sum()
}

fn invite_token(chat_id: ChatId) -> String {
    format!("sim{:x}", chat_id.unsigned_abs())
}

/// `Anna`, `Anna.`, `Аnna` (Cyrillic А), `Anna1`... — the names rings use.
fn ring_name_variant(first: &str, member: u32, rng: &mut Rng) -> String {
    match member % 4 {
        0 => first.to_string(),
        1 => format!("{first}{}", 1 + rng.below(9)),
        2 => crate::sim::chatter::lookalike(first, rng),
        _ => format!("{first}."),
    }
}

fn transliterate(name: &str) -> String {
    const TABLE: &[(char, &str)] = &[
        ('а', "a"),
        ('б', "b"),
        ('в', "v"),
        ('г', "g"),
        ('д', "d"),
        ('е', "e"),
        ('ё', "e"),
        ('ж', "zh"),
        ('з', "z"),
        ('и', "i"),
        ('й', "y"),
        ('к', "k"),
        ('л', "l"),
        ('м', "m"),
        ('н', "n"),
        ('о', "o"),
        ('п', "p"),
        ('р', "r"),
        ('с', "s"),
        ('т', "t"),
        ('у', "u"),
        ('ф', "f"),
        ('х', "h"),
        ('ц', "ts"),
        ('ч', "ch"),
        ('ш', "sh"),
        ('щ', "sch"),
        ('ы', "y"),
        ('э', "e"),
        ('ю', "yu"),
        ('я', "ya"),
        ('ь', ""),
        ('ъ', ""),
    ];
    name.to_lowercase()
        .chars()
        .map(|c| match TABLE.iter().find(|(k, _)| *k == c) {
            Some((_, v)) => (*v).to_string(),
            None if c.is_ascii_alphanumeric() => c.to_string(),
            None => String::new(),
        })
        .collect()
}
