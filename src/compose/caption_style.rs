//! How burned-in captions look: the options a timeline asks for, which its
//! plan carries and [`super::captions`] lays out.

/// How burned-in captions look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Whole cues, white on a soft outline.
    Plain,
    /// Whole cues, the word being spoken in an accent colour.
    Karaoke,
    /// One to three words at a time, in large type.
    Word,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    Bottom,
    Middle,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Captions {
    pub style: Style,
    pub position: Position,
}
