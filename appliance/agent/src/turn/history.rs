//! The conversation as the model sees it: redacted text only, in turns that alternate between
//! the caller and the agent, as Bedrock's Converse API requires.
//!
//! It must never hold text that did not come out of the redactor; the type of each part makes
//! that a compile-time fact.

use diala_redact::Redacted;

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The caller.
    User,
    /// The agent.
    Assistant,
}

/// One message: consecutive texts of one speaker, each redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Who said it.
    pub role: Role,
    /// What was said, in the pieces it arrived in (utterances, or sentences the caller heard).
    pub parts: Vec<Redacted<String>>,
}

/// The conversation so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    messages: Vec<Message>,
}

impl History {
    /// An empty conversation.
    pub fn new() -> Self {
        History::default()
    }

    /// The messages, oldest first; the first is always the caller's.
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// Adds what the caller said; joins the caller's previous message if the agent said nothing
    /// in between (an interrupted reply the caller heard none of).
    pub fn push_user(&mut self, text: Redacted<String>) {
        self.push(Role::User, vec![text]);
    }

    /// Adds what the caller heard of the agent's reply. Nothing heard adds nothing; a reply
    /// before the caller has spoken is not kept, since a conversation must open with the caller.
    pub fn push_assistant(&mut self, parts: Vec<Redacted<String>>) {
        if parts.is_empty() || self.messages.is_empty() {
            return;
        }
        self.push(Role::Assistant, parts);
    }

    fn push(&mut self, role: Role, parts: Vec<Redacted<String>>) {
        match self.messages.last_mut() {
            Some(last) if last.role == role => last.parts.extend(parts),
            _ => self.messages.push(Message { role, parts }),
        }
    }
}
