//! Finds where a JSON path points in the original text, so the console editor can put the cursor on
//! the problem. A small scanner over valid JSON (the text already parsed once).

use super::PathSeg;

/// Byte offset of the value at `path` (or of the deepest part of it that exists).
pub fn locate(text: &str, path: &[PathSeg]) -> usize {
    let mut scanner = Scanner {
        bytes: text.as_bytes(),
        pos: 0,
    };
    scanner.skip_ws();
    let mut best = scanner.pos;
    for seg in path {
        match scanner.enter(seg) {
            Some(pos) => {
                best = pos;
                scanner.pos = pos;
            }
            None => break,
        }
    }
    best
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.pos += 1;
        }
    }

    /// Reads a string starting at `"`, returning its raw (unescaped enough for keys) content.
    fn string(&mut self) -> Option<String> {
        if self.peek() != Some(b'"') {
            return None;
        }
        self.pos += 1;
        let start = self.pos;
        while let Some(b) = self.peek() {
            match b {
                b'\\' => self.pos += 2,
                b'"' => {
                    let raw = std::str::from_utf8(&self.bytes[start..self.pos])
                        .ok()?
                        .to_string();
                    self.pos += 1;
                    return serde_json::from_str::<String>(&format!("\"{raw}\"")).ok();
                }
                _ => self.pos += 1,
            }
        }
        None
    }

    /// Skips one value of any kind.
    fn skip_value(&mut self) -> Option<()> {
        self.skip_ws();
        match self.peek()? {
            b'"' => {
                self.string()?;
            }
            b'{' | b'[' => {
                let mut depth = 0usize;
                while let Some(b) = self.peek() {
                    match b {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.pos += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.pos += 1;
                }
                return None;
            }
            _ => {
                while let Some(b) = self.peek() {
                    if matches!(b, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                        break;
                    }
                    self.pos += 1;
                }
            }
        }
        Some(())
    }

    /// From the start of a container value, moves to the child named by `seg`; returns its offset.
    fn enter(&mut self, seg: &PathSeg) -> Option<usize> {
        self.skip_ws();
        match (seg, self.peek()?) {
            (PathSeg::Key(key), b'{') => {
                self.pos += 1;
                loop {
                    self.skip_ws();
                    if self.peek()? == b'}' {
                        return None;
                    }
                    let name = self.string()?;
                    self.skip_ws();
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.pos += 1;
                    self.skip_ws();
                    if &name == key {
                        return Some(self.pos);
                    }
                    self.skip_value()?;
                    self.skip_ws();
                    if self.peek()? == b',' {
                        self.pos += 1;
                    }
                }
            }
            (PathSeg::Index(index), b'[') => {
                self.pos += 1;
                for _ in 0..*index {
                    self.skip_ws();
                    if self.peek()? == b']' {
                        return None;
                    }
                    self.skip_value()?;
                    self.skip_ws();
                    if self.peek()? == b',' {
                        self.pos += 1;
                    }
                }
                self.skip_ws();
                (self.peek()? != b']').then_some(self.pos)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_values() {
        let text =
            "[\n  {\"name\": \"a\", \"x\": [1, {\"k\": \"v\\\"}\"}]},\n  {\"name\": \"b\"}\n]";
        let at = |path: &[PathSeg]| &text[locate(text, path)..];
        assert!(at(&[PathSeg::Index(1), PathSeg::Key("name".into())]).starts_with("\"b\""));
        assert!(
            at(&[
                PathSeg::Index(0),
                PathSeg::Key("x".into()),
                PathSeg::Index(1),
                PathSeg::Key("k".into())
            ])
            .starts_with("\"v")
        );
        // A missing key points at the deepest part that exists.
        assert!(
            at(&[PathSeg::Index(1), PathSeg::Key("nope".into())]).starts_with("{\"name\": \"b\"}")
        );
    }
}
