//! Plain CSV, tokenized on every core without Polars' reader.
//!
//! Most exports are plain: no quotes, and the header's number of cells on every line, each
//! ending in `\n` or `\r\n` (Python's `csv` module and spreadsheets write the latter). In
//! such a chunk every line break ends a record and every comma ends a cell, so the chunk can be
//! cut anywhere at a line break and each piece tokenized on its own core in one pass, numbers
//! parsed as they are found. Polars' reader first counts the chunk's lines on one thread to
//! split the work (a byte at a time without its nightly-only `simd` feature): an eighth of
//! `dora metrics --input` at 2M commits, with its tokenizer as much again (perf).
//!
//! Anything else (a quote, a `\r` not before a `\n`, an empty line, a line of another width,
//! bytes that are not UTF-8) gives `None`, and the caller reads the chunk with Polars' reader
//! as before. Either way the rows and their problems are the same: text cells as Polars reads
//! them (tested below), numbers as the caller parses Polars' text (tested in `mod.rs`).

use polars::prelude::*;
use rayon::prelude::*;

/// Bytes tokenized by one task: big enough that a piece's column buffers are few, small enough
/// that both cores get work on a file of a few megabytes.
const PIECE_BYTES: usize = 2 << 20;

/// What a number cell holds, as the caller's parser sees it.
pub(super) enum Number {
    /// Nothing (blank): null.
    Blank,
    Value(i64),
    /// Not a number the parser accepts: null, and listed.
    Bad,
}

/// How the cells of a projected column are kept.
#[derive(Clone, Copy)]
pub(super) enum Cells<'a> {
    /// As text; an empty cell is null.
    Text,
    /// As numbers (timestamps, counts), parsed as the line is tokenized: building a text column
    /// of 30-byte timestamps only to parse it in a second pass wrote twice the bytes (most of
    /// the chunk) into fresh pages.
    Numbers(&'a (dyn Fn(&str) -> Number + Sync)),
}

/// A projected column of a plain chunk.
pub(super) enum Column {
    Text(StringChunked),
    /// Values (null where blank or bad), and the bad cells: (row in the chunk, text).
    Numbers {
        values: Int64Chunked,
        bad: Vec<(usize, String)>,
    },
}

/// A plain chunk's rows: its projected columns, in the projection's order.
pub(super) struct Plain {
    pub height: usize,
    pub columns: Vec<Column>,
}

/// The projected columns of a plain chunk, kept as `cells` says (one per projected column);
/// `None` when the chunk is not plain. `skip_header`: the chunk's first line is the header.
pub(super) fn read_plain(
    bytes: &[u8],
    skip_header: bool,
    width: usize,
    projection: &[usize],
    cells: &[Cells],
) -> Option<Plain> {
    // One cell per line is no test of a line's shape (a stray space line would pass): Polars.
    if width < 2 || cells.len() != projection.len() || projection.iter().any(|&i| i >= width) {
        return None;
    }
    let (header, body) = if skip_header {
        bytes.split_at(memchr::memchr(b'\n', bytes).map_or(bytes.len(), |end| end + 1))
    } else {
        (&bytes[..0], bytes)
    };
    // A quoted header cell may span lines: then the first line is not the header.
    if memchr::memchr(b'"', header).is_some() {
        return None;
    }
    // Where each cell of a line goes: its position in `projection`, if read.
    let slots: Vec<Option<usize>> = (0..width).map(|i| projection.iter().position(|&p| p == i)).collect();
    let pieces: Vec<Option<Tokens<'_>>> = pieces(body)
        .into_par_iter()
        .map(|piece| tokenize(piece, width, &slots, cells))
        .collect();

    let mut height = 0;
    let mut columns: Vec<Option<Column>> = (0..projection.len()).map(|_| None).collect();
    for piece in pieces {
        let piece = piece?;
        for (column, part) in columns.iter_mut().zip(piece.columns) {
            match (column, part) {
                (Some(Column::Text(column)), Builder::Text(part)) => column.append_owned(part.finish()).ok()?,
                (
                    Some(Column::Numbers { values, bad }),
                    Builder::Numbers {
                        values: part,
                        bad: part_bad,
                        ..
                    },
                ) => {
                    values.append_owned(part.finish()).ok()?;
                    bad.extend(part_bad.into_iter().map(|(row, text)| (height + row, text)));
                }
                (column @ None, part) => *column = Some(part.finish()),
                _ => return None,
            }
        }
        height += piece.rows;
    }
    // One chunk per column, as Polars' reader gives: Polars gathers rows (an import routes
    // every row to its partition) from a text column of one chunk by copying views, but from
    // several chunks by copying every string into a new array (perf and peak memory, 10M).
    let columns = columns
        .into_par_iter()
        .zip(cells)
        .map(|(column, cells)| match column {
            Some(Column::Text(text)) => Column::Text(text.rechunk().into_owned()),
            Some(Column::Numbers { values, bad }) => Column::Numbers {
                values: values.rechunk().into_owned(),
                bad,
            },
            None => match cells {
                Cells::Text => Column::Text(StringChunked::full_null(PlSmallStr::EMPTY, 0)),
                Cells::Numbers(_) => Column::Numbers {
                    values: Int64Chunked::full_null(PlSmallStr::EMPTY, 0),
                    bad: Vec::new(),
                },
            },
        })
        .collect();
    Some(Plain { height, columns })
}

/// `body` cut at line breaks into pieces of about [`PIECE_BYTES`].
fn pieces(body: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::with_capacity(body.len() / PIECE_BYTES + 1);
    let mut rest = body;
    while rest.len() > PIECE_BYTES {
        let Some(end) = memchr::memchr(b'\n', &rest[PIECE_BYTES..]) else {
            break;
        };
        let (piece, tail) = rest.split_at(PIECE_BYTES + end + 1);
        out.push(piece);
        rest = tail;
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// A projected column of a piece, being filled.
enum Builder<'a> {
    Text(StringChunkedBuilder),
    Numbers {
        parse: &'a (dyn Fn(&str) -> Number + Sync),
        values: PrimitiveChunkedBuilder<Int64Type>,
        bad: Vec<(usize, String)>,
    },
}

impl Builder<'_> {
    /// Adds the cell of row `row` (in the piece).
    fn push(&mut self, row: usize, cell: &str) {
        match self {
            Builder::Text(builder) if cell.is_empty() => builder.append_null(),
            Builder::Text(builder) => builder.append_value(cell),
            Builder::Numbers { parse, values, bad } => match parse(cell) {
                Number::Value(value) => values.append_value(value),
                Number::Blank => values.append_null(),
                Number::Bad => {
                    values.append_null();
                    bad.push((row, cell.to_string()));
                }
            },
        }
    }

    fn finish(self) -> Column {
        match self {
            Builder::Text(builder) => Column::Text(builder.finish()),
            Builder::Numbers { values, bad, .. } => Column::Numbers {
                values: values.finish(),
                bad,
            },
        }
    }
}

/// What a piece holds.
struct Tokens<'a> {
    rows: usize,
    /// The projected columns.
    columns: Vec<Builder<'a>>,
}

/// One piece's rows and projected columns, or `None` if it is not plain.
fn tokenize<'a>(piece: &[u8], width: usize, slots: &[Option<usize>], cells: &[Cells<'a>]) -> Option<Tokens<'a>> {
    if memchr::memchr(b'"', piece).is_some() {
        return None;
    }
    // Every `\r` must end a line (checked against the line ends found below).
    let returns = memchr::memchr_iter(b'\r', piece).count();
    let text = std::str::from_utf8(piece).ok()?;
    // Cells of 40 hex digits and timestamps: a line is rarely under 40 bytes.
    let capacity = piece.len() / 40 + 1;
    let mut builders: Vec<Builder> = cells
        .iter()
        .map(|cells| match cells {
            Cells::Text => Builder::Text(StringChunkedBuilder::new(PlSmallStr::EMPTY, capacity)),
            Cells::Numbers(parse) => Builder::Numbers {
                parse: *parse,
                values: PrimitiveChunkedBuilder::new(PlSmallStr::EMPTY, capacity),
                bad: Vec::new(),
            },
        })
        .collect();
    let (mut rows, mut line_returns, mut field, mut start) = (0, 0, 0, 0);
    let mut push = |row: usize, field: usize, cell: &str| {
        if let Some(slot) = slots[field] {
            builders[slot].push(row, cell);
        }
    };
    for end in memchr::memchr2_iter(b',', b'\n', piece) {
        if field == width {
            return None;
        }
        let line_end = piece[end] == b'\n';
        if line_end && end > start && piece[end - 1] == b'\r' {
            line_returns += 1;
            push(rows, field, &text[start..end - 1]);
        } else {
            push(rows, field, &text[start..end]);
        }
        start = end + 1;
        if line_end {
            // An empty line (field 0) or a short one.
            if field + 1 != width {
                return None;
            }
            rows += 1;
            field = 0;
        } else {
            field += 1;
        }
    }
    // The last line, without a line break.
    if start < piece.len() || field > 0 {
        if field + 1 != width {
            return None;
        }
        push(rows, field, &text[start..]);
        rows += 1;
    }
    if line_returns != returns {
        return None;
    }
    Some(Tokens {
        rows,
        columns: builders,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(i: usize) -> String {
        format!("c{i}")
    }

    /// Reads text columns only, as a frame of columns named by position.
    fn plain_text(bytes: &[u8], skip_header: bool, width: usize, projection: &[usize]) -> Option<DataFrame> {
        let plain = read_plain(
            bytes,
            skip_header,
            width,
            projection,
            &vec![Cells::Text; projection.len()],
        )?;
        let columns = plain
            .columns
            .into_iter()
            .zip(projection)
            .map(|(column, &i)| match column {
                Column::Text(text) => text.with_name(name(i).into()).into_column(),
                Column::Numbers { .. } => panic!("a text column"),
            })
            .collect();
        Some(DataFrame::new(plain.height, columns).expect("columns of one height"))
    }

    /// What Polars' reader makes of the same bytes, as `read_text_columns` asks it.
    fn polars(bytes: &[u8], skip_header: bool, width: usize, projection: &[usize]) -> Option<DataFrame> {
        let schema: Schema = (0..width)
            .map(|i| Field::new(name(i).into(), DataType::String))
            .collect();
        CsvReadOptions::default()
            .with_has_header(false)
            .with_skip_rows(usize::from(skip_header))
            .with_raise_if_empty(false)
            .with_schema(Some(Arc::new(schema)))
            .with_projection(Some(Arc::new(projection.to_vec())))
            .with_parse_options(CsvParseOptions::default().with_missing_is_null(true))
            .into_reader_with_file_handle(std::io::Cursor::new(bytes.to_vec()))
            .finish()
            .ok()
    }

    fn same(plain: &DataFrame, polars: &DataFrame, projection: &[usize]) -> bool {
        plain.height() == polars.height()
            && projection.iter().all(|&i| {
                let a = plain.column(&name(i)).expect("projected");
                let b = polars.column(&name(i)).expect("projected");
                a.as_materialized_series().equals_missing(b.as_materialized_series())
            })
    }

    #[test]
    fn plain_chunks_read_as_polars_reads_them() {
        let cases: &[(&str, bool, usize, &[usize])] = &[
            ("a,b,c\n1,2,3\n4,,6\n", true, 3, &[0, 2]),
            ("a,b,c\n1,2,3\n4,5,6", true, 3, &[2, 1, 0]),
            ("1,2,\n", false, 3, &[0, 1, 2]),
            ("1,2,", false, 3, &[2]),
            ("x, y ,é\n", false, 3, &[0, 1, 2]),
            ("a,b\n", true, 2, &[0, 1]),
            ("a,b\r\n1,2\r\n3,\r\n,4\r\n", true, 2, &[0, 1]),
            ("1,2\r\n3,4", false, 2, &[1, 0]),
            ("", false, 2, &[0, 1]),
        ];
        for &(text, skip, width, projection) in cases {
            let plain = plain_text(text.as_bytes(), skip, width, projection).expect(text);
            let polars = polars(text.as_bytes(), skip, width, projection).expect(text);
            assert!(same(&plain, &polars, projection), "{text:?}\n{plain}\n{polars}");
        }
    }

    #[test]
    fn anything_else_is_left_to_polars() {
        for text in [
            "a,\"b\"\n",
            "a,b\r",
            "a\r,b\n",
            "a,b\r\r\n",
            "a,b\n\nc,d\n",
            "a,b\nc\n",
            "a,b\nc,d,e\n",
            "a,b\n,\n,,\n",
        ] {
            assert!(plain_text(text.as_bytes(), false, 2, &[0, 1]).is_none(), "{text:?}");
        }
        assert!(plain_text(b"a,\xff\n", false, 2, &[0, 1]).is_none());
        assert!(plain_text(b"a\nb\n", false, 1, &[0]).is_none());
        assert!(plain_text(b"\"a\",b\n1,2\n", true, 2, &[0, 1]).is_none());
        assert!(plain_text(b"a,b\n1,2\n", true, 2, &[0, 1]).is_some());
    }

    /// Random plain files, in pieces small and large: the same frame as Polars'.
    #[test]
    fn same_as_polars_on_random_plain_files() {
        use proptest::prelude::*;
        let cell = proptest::string::string_regex("[a-z0-9 :.+-]{0,6}").expect("regex");
        let strategy = (
            2usize..5,
            proptest::collection::vec(proptest::collection::vec(cell, 4), 0..300),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        );
        proptest!(|((width, lines, skip, last_break, crlf) in strategy)| {
            let mut text = String::new();
            for (n, line) in lines.iter().enumerate() {
                text.push_str(&line[..width].join(","));
                if n + 1 < lines.len() || last_break {
                    text.push_str(if crlf { "\r\n" } else { "\n" });
                }
            }
            // A line of only empty cells is still a line of `width` cells.
            let projection: Vec<usize> = (0..width).rev().step_by(2).collect();
            // These files are all plain: the fast path must take them.
            let plain = plain_text(text.as_bytes(), skip, width, &projection).expect("a plain file");
            let expected = polars(text.as_bytes(), skip, width, &projection).expect("Polars reads it");
            prop_assert!(same(&plain, &expected, &projection), "{:?}\n{}\n{}", text, plain, expected);
        });
    }

    /// Numbers are parsed as tokenized; bad cells are listed by their row in the chunk, across
    /// pieces.
    #[test]
    fn numbers_are_parsed_with_their_rows() {
        let parse = |text: &str| {
            if text.trim().is_empty() {
                Number::Blank
            } else {
                text.parse().map_or(Number::Bad, Number::Value)
            }
        };
        let line = "0123456789abcdef0123456789abcdef,7\n";
        let lines = 2 * PIECE_BYTES / line.len();
        let mut body = line.repeat(lines);
        body.push_str("x,\ny, \nz,oops\n");
        let plain = read_plain(body.as_bytes(), false, 2, &[1], &[Cells::Numbers(&parse)]).expect("plain");
        assert_eq!(plain.height, lines + 3);
        let [Column::Numbers { values, bad }] = &plain.columns[..] else {
            panic!("one number column");
        };
        assert_eq!(values.len(), lines + 3);
        assert_eq!(values.get(0), Some(7));
        assert_eq!(values.get(lines - 1), Some(7));
        assert_eq!(values.null_count(), 3);
        assert_eq!(bad, &[(lines + 2, "oops".to_string())]);
    }

    #[test]
    fn pieces_end_at_line_breaks() {
        let line = "0123456789abcdef0123456789abcdef,2026-01-01T00:00:00Z\n";
        let body = line.repeat(3 * PIECE_BYTES / line.len());
        let cut = pieces(body.as_bytes());
        assert!(cut.len() >= 3);
        assert_eq!(cut.iter().map(|p| p.len()).sum::<usize>(), body.len());
        assert!(cut.iter().all(|p| p.ends_with(b"\n")));
        let frame = plain_text(body.as_bytes(), false, 2, &[0, 1]).expect("plain");
        assert_eq!(frame.height(), body.len() / line.len());
        // One chunk per column, however many pieces.
        assert!(
            frame
                .columns()
                .iter()
                .all(|c| c.as_materialized_series().n_chunks() == 1)
        );
    }
}
