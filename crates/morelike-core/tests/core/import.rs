//! The importer against the real catalogs and every known defect.

use morelike_core::import::{Importer, Lookup};
use morelike_core::{Format, Mapping};

use crate::helpers::{fashion, import};

#[test]
fn fashion_imports_every_product_and_repairs_the_22_rows_with_unquoted_commas() {
    let f = fashion();
    assert_eq!(f.report.imported, 44_446, "{:?}", &f.report.errors);
    assert_eq!(f.report.rejected, 0);
    assert_eq!(f.report.repaired, 22);
    assert_eq!(f.report.rows, 44_446);
    let repair_lines: Vec<u64> = f
        .report
        .warnings
        .iter()
        .filter(|w| w.reason.contains("unquoted commas"))
        .map(|w| w.line.unwrap())
        .collect();
    assert_eq!(repair_lines.len(), 22);
    let named: Vec<u64> = f
        .report
        .warnings
        .iter()
        .filter(|w| w.reason.contains("the name is empty"))
        .map(|w| w.line.unwrap())
        .collect();
    assert_eq!(named.len(), 7, "seven rows are named 'NA'");
    assert_eq!(
        f.catalog.get("42878").unwrap().name(),
        "Women Accessories Bags Clutches Maroon Summer Casual"
    );
    // Line numbers are the file's physical lines, as an editor shows them
    // (the data README's "line 6,045" counts as pandas does, one more).
    assert!(repair_lines.contains(&6044), "{repair_lines:?}");
}

#[test]
fn repaired_rows_keep_the_whole_name_with_its_commas() {
    let f = fashion();
    let line = std::fs::read_to_string(crate::helpers::data("fashion/styles.csv")).unwrap();
    let row = line.lines().nth(6043).unwrap();
    let id = row.split(',').next().unwrap();
    let product = f.catalog.get(id).unwrap();
    let fields: Vec<&str> = row.split(',').collect();
    assert_eq!(
        product.name(),
        fields[9..]
            .join(",")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    );
    assert!(product.name().contains(','));
}

#[test]
fn empty_and_na_values_become_missing_attributes_not_errors() {
    let f = fashion();
    let no_season = f
        .products
        .iter()
        .filter(|p| !p.attributes.contains_key("season"))
        .count();
    let no_year = f
        .products
        .iter()
        .filter(|p| !p.numbers.contains_key("year"))
        .count();
    let no_usage = f
        .products
        .iter()
        .filter(|p| !p.attributes.contains_key("usage"))
        .count();
    assert_eq!(no_season, 21);
    assert_eq!(no_year, 1);
    assert_eq!(no_usage, 1 + 316);
    assert!(f
        .products
        .iter()
        .all(|p| p.attributes.get("usage").map(String::as_str) != Some("NA")));
}

#[test]
fn double_spaces_in_names_are_collapsed() {
    let f = fashion();
    assert!(f.products.iter().all(|p| !p.name.contains("  ")));
    assert_eq!(
        f.catalog.get("59365").unwrap().name(),
        "Vishudh Women Orange Printed Kurta"
    );
}

#[test]
fn instacart_imports_every_product_with_aisle_and_department_names() {
    let (_, products, report) = import("instacart/products.csv", "instacart.toml");
    assert_eq!(report.imported, 49_688, "{:?}", &report.errors);
    assert_eq!(report.rejected, 0);
    let cookies = products.iter().find(|p| p.id == "1").unwrap();
    assert_eq!(cookies.name, "Chocolate Sandwich Cookies");
    assert_eq!(cookies.attributes["aisle"], "cookies cakes");
    assert_eq!(cookies.attributes["department"], "snacks");
    assert_eq!(
        cookies.attributes["kind"], "cookies",
        "derived from the name's last word"
    );
    assert!(
        products.iter().any(|p| p.name.contains(',')),
        "quoted names with commas survive"
    );
    assert!(
        products.iter().any(|p| !p.name.is_ascii()),
        "non-ASCII names survive"
    );
}

fn small_mapping() -> Mapping {
    Mapping::from_toml(
        r#"
        [fields]
        id = "id"
        name = "name"
        price = "price"
        in_stock = "stock"
        categorical = ["colour"]
        vectors = ["emb"]
        "#,
    )
    .unwrap()
}

#[test]
fn a_broken_csv_row_is_rejected_with_line_field_and_reason_and_the_rest_kept() {
    let mapping = small_mapping();
    let csv = "id,name,price,stock,colour,emb\n\
               1,Shirt,10,yes,Blue,1 0\n\
               2,Hat,ten,yes,Red,0 1\n\
               3,Shoe,5,maybe,Red,0 1\n\
               4,Sock,1,no\n\
               ,Nameless,1,yes,Red,0 1\n\
               6,Belt,-3,yes,Red,0 1\n\
               7,Scarf,2,1,Green,1 2 3\n\
               8,Coat,99,0,Black,\"[0.5, 0.5]\"\n";
    let (products, report) = Importer::new(&mapping, &[])
        .read_all(Format::Csv, csv.as_bytes())
        .unwrap();
    let ids: Vec<&str> = products.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["1", "8"]);
    assert_eq!((report.imported, report.rejected, report.rows), (2, 6, 8));
    let by_line = |line: u64| report.errors.iter().find(|e| e.line == Some(line)).unwrap();
    assert_eq!(by_line(3).field.as_deref(), Some("price"));
    assert!(by_line(3).reason.contains("'ten' is not a number"));
    assert_eq!(by_line(4).field.as_deref(), Some("stock"));
    assert!(by_line(5).reason.contains("expected 6 fields, found 4"));
    assert_eq!(by_line(6).field.as_deref(), Some("id"));
    assert!(by_line(7).reason.contains("negative"));
    assert!(
        by_line(8).reason.contains("expected 2"),
        "{}",
        by_line(8).reason
    );
    assert!(!products[1].in_stock);
    assert_eq!(products[1].vectors["emb"], vec![0.5, 0.5]);
}

#[test]
fn a_rejected_rows_line_is_its_line_in_the_file_with_lf_or_crlf_line_ends() {
    let mapping = small_mapping();
    // Bad ids on lines 3, 5 and 8; line 6 holds a quoted name over two lines.
    let lines = [
        "id,name,price,stock,colour,emb",
        "1,Shirt,10,yes,Blue,1 0",
        ",Hat,1,yes,Red,0 1",
        "3,Shoe,5,yes,Red,0 1",
        ",Sock,1,no,Red,0 1",
        "5,\"Two",
        "lines\",1,yes,Red,0 1",
        ",Belt,3,yes,Red,0 1",
    ];
    for end in ["\n", "\r\n"] {
        let csv = lines.join(end) + end;
        let (products, report) = Importer::new(&mapping, &[])
            .read_all(Format::Csv, csv.as_bytes())
            .unwrap();
        assert_eq!(products.len(), 3, "{end:?}");
        let rejected: Vec<Option<u64>> = report.errors.iter().map(|e| e.line).collect();
        assert_eq!(rejected, [Some(3), Some(5), Some(8)], "{end:?}");
    }
}

#[test]
fn extra_fields_are_rejected_when_the_last_column_is_not_free_text() {
    let mapping = small_mapping();
    let csv = "id,name,price,stock,colour,emb\n1,Shirt,10,yes,Blue,1 0,9\n";
    let (_, report) = Importer::new(&mapping, &[])
        .read_all(Format::Csv, csv.as_bytes())
        .unwrap();
    assert_eq!(report.rejected, 1);
    assert!(report.errors[0].reason.contains("found 7"));
}

#[test]
fn a_mapping_naming_a_missing_column_fails_before_any_row() {
    let mapping = small_mapping();
    let err = Importer::new(&mapping, &[])
        .read_all(Format::Csv, "id,name\n1,x\n".as_bytes())
        .unwrap_err();
    assert!(err.to_string().contains("header has: id, name"), "{err}");
}

#[test]
fn a_bad_json_line_rejects_that_line_only() {
    let mapping = small_mapping();
    let jsonl = "{\"id\":\"1\",\"name\":\"Shirt\",\"price\":10,\"emb\":[1,0]}\n\
                 {not json\n\
                 \n\
                 {\"id\":2,\"name\":\"Hat\",\"price\":\"4.5\",\"stock\":false}\n\
                 [1,2]\n\
                 {\"id\":\"3\",\"name\":{\"a\":1}}\n";
    let (products, report) = Importer::new(&mapping, &[])
        .read_all(Format::Jsonl, jsonl.as_bytes())
        .unwrap();
    assert_eq!(products.len(), 2);
    assert_eq!(products[1].id, "2");
    assert_eq!(products[1].price, Some(4.5));
    assert_eq!(report.rejected, 3);
    assert_eq!(report.errors[0].line, Some(2));
    assert!(report.errors[0].reason.contains("not valid JSON"));
    assert_eq!(report.errors[1].line, Some(5));
    assert!(
        report.errors[2].reason.contains("found an object"),
        "{}",
        report.errors[2].reason
    );
}

#[test]
fn a_json_array_is_read_item_by_item_with_positions_in_errors() {
    let mapping = small_mapping();
    let json = r#"[{"id":"1","name":"Shirt"},{"id":"2"},{"id":"3","name":"Hat","colour":"Red"}]"#;
    let (products, report) = Importer::new(&mapping, &[])
        .read_all(Format::Json, json.as_bytes())
        .unwrap();
    assert_eq!(products.len(), 2);
    assert_eq!(report.errors[0].item, Some(2));
    assert_eq!(report.errors[0].field.as_deref(), Some("name"));
    let err = Importer::new(&mapping, &[])
        .read_all(Format::Json, r#"{"id":1}"#.as_bytes())
        .unwrap_err();
    assert!(err.to_string().contains("JSON array"), "{err}");
}

#[test]
fn a_repeated_id_is_a_warning_and_the_later_row_wins() {
    let mapping = small_mapping();
    let csv = "id,name,price,stock,colour,emb\n1,Shirt,10,yes,Blue,\n1,Shirt v2,11,yes,Blue,\n";
    let (products, report) = Importer::new(&mapping, &[])
        .read_all(Format::Csv, csv.as_bytes())
        .unwrap();
    assert_eq!(products.len(), 2);
    assert_eq!(report.warnings.len(), 1);
    assert!(report.warnings[0].reason.contains("line 2"));
}

/// Reads `input` twice, into new products and into products handed back
/// after each row (what a streamed import does), and checks both give the
/// same products and the same report.
fn reused_rows_read_as_new_ones(
    mapping: &Mapping,
    lookups: &[Lookup],
    format: Format,
    input: &[u8],
) {
    let (fresh, report) = Importer::new(mapping, lookups)
        .read_all(format, input)
        .unwrap();
    let mut reused = Vec::new();
    let reused_report = Importer::new(mapping, lookups)
        .read_reusing(format, input, |product| {
            reused.push(product.clone());
            Some(product)
        })
        .unwrap();
    assert_eq!(reused_report, report);
    assert_eq!(reused.len(), fresh.len());
    for (reused, fresh) in reused.iter().zip(&fresh) {
        assert_eq!(reused, fresh);
    }
}

#[test]
fn a_row_written_over_the_previous_rows_product_is_the_product_a_new_one_would_be() {
    let mapping = Mapping::from_toml(
        r#"
        [fields]
        id = "id"
        name = "name"
        price = "price"
        image = "image"
        image_template = "https://img.example/{id}.jpg"
        in_stock = "stock"
        text = ["name", "about"]
        categorical = ["colour", "size"]
        numeric = ["year", "weight"]
        vectors = ["emb"]
        [[derived]]
        into = "kind"
        from = "about"
        take = "last_word"
        "#,
    )
    .unwrap();
    // Each row leaves out what the one before had (and the other way
    // round), with bad rows, a repeated id and an empty name between them.
    let csv = "id,name,price,image,stock,about,colour,size,year,weight,emb\n\
               1,Blue  Shirt,10,https://x.example/1.jpg,yes,A long  shirt,Blue,M,2011,0.3,1 0\n\
               2,Hat,,,no,,,,,,\n\
               3,Shoe,ten,,yes,,Red,,,,\n\
               4,,5,,yes,,Red,L,2012,,0 1\n\
               5,Sock,1,javascript:x,yes,Warm sock,Red,,,,\n\
               6,Scarf,2,,1,Soft   scarf,Green,S,,1.5,1 1\n\
               1,Blue Shirt again,11,,no,Short,,XL,2013,,\n\
               7,  Coat ,99,https://x.example/7.jpg,0,,Black,,2014,2,\"[0.5, 0.5]\"\n\
               8,Née Ça,1,,yes,Été,Blanc,,,,\n";
    reused_rows_read_as_new_ones(&mapping, &[], Format::Csv, csv.as_bytes());
    let jsonl = r#"{"id": 1, "name": "Blue Shirt", "price": 10, "colour": "Blue", "year": 2011, "emb": [1, 0]}
{"id": "2", "name": "Hat", "stock": false, "size": "M", "weight": 0.5}
{"id": "3", "name": "Shoe", "price": "x"}
{"id": "4", "name": "", "colour": "Red", "about": "a red thing"}
{"id": "5", "name": "Belt", "colour": 7, "size": true}
"#;
    reused_rows_read_as_new_ones(&mapping, &[], Format::Jsonl, jsonl.as_bytes());
}

#[test]
fn the_real_catalogs_read_the_same_into_reused_products() {
    for (catalog, mapping_name) in [
        ("fashion/styles.csv", "fashion.toml"),
        ("instacart/products.csv", "instacart.toml"),
    ] {
        let (mapping, lookups) = crate::helpers::mapping(mapping_name);
        let input = std::fs::read(crate::helpers::data(catalog)).unwrap();
        reused_rows_read_as_new_ones(&mapping, &lookups, Format::Csv, &input);
    }
}

fn name_last_mapping() -> Mapping {
    Mapping::from_toml(
        r#"
        [fields]
        id = "id"
        name = "name"
        categorical = ["colour"]
        numeric = ["year"]
        "#,
    )
    .unwrap()
}

#[test]
fn an_unclosed_quote_rejects_its_row_and_the_rows_it_swallowed_are_read_again() {
    let mapping = name_last_mapping();
    let lines = [
        "id,colour,year,name",
        "1,Blue,2011,Shirt",
        "2,Red,2012,\"Chain 18 inch",
        "3,Green,2013,Hat",
        "4,Black,2014,Sock",
    ];
    for end in ["\n", "\r\n"] {
        let csv = lines.join(end) + end;
        let (products, report) = Importer::new(&mapping, &[])
            .read_all(Format::Csv, csv.as_bytes())
            .unwrap();
        let ids: Vec<&str> = products.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["1", "3", "4"], "{end:?}");
        assert_eq!(products[1].name, "Hat");
        assert_eq!((report.rows, report.imported, report.rejected), (4, 3, 1));
        let error = &report.errors[0];
        assert_eq!(error.line, Some(3), "{end:?}");
        assert_eq!(error.field.as_deref(), Some("name"));
        for part in [
            "quote opened on line 3 is never closed",
            "lines 4–5, which read as rows of their own",
            "read again as rows",
            "write a quote inside a field as \"\"",
        ] {
            assert!(error.reason.contains(part), "{part}: {}", error.reason);
        }
    }
}

#[test]
fn an_unclosed_quote_on_the_last_row_but_one_no_longer_merges_the_last_row_into_it() {
    // The tester's short case: the last row became part of the name before.
    let mapping = name_last_mapping();
    let csv = "id,colour,year,name\n\
               99903,Blue,2011,\"unterminated quote name\n\
               99904,Red,2012,ok name\n";
    let (products, report) = Importer::new(&mapping, &[])
        .read_all(Format::Csv, csv.as_bytes())
        .unwrap();
    assert_eq!(products.len(), 1);
    assert_eq!(
        (products[0].id.as_str(), products[0].name.as_str()),
        ("99904", "ok name")
    );
    assert_eq!(report.rejected, 1);
    assert!(
        report.errors[0]
            .reason
            .contains("over line 3, which reads as a row of its own"),
        "{}",
        report.errors[0].reason
    );
}

#[test]
fn a_quote_closed_by_a_later_rows_quote_gives_back_every_row_in_between() {
    let mapping = name_last_mapping();
    let csv = "id,colour,year,name\n\
               1,Blue,2011,Shirt\n\
               2,Red,2012,\"Chain\n\
               3,Green,2013,Hat\n\
               4,Black,2014,\"Sock, wool\"\n\
               5,White,2015,Belt\n";
    let (products, report) = Importer::new(&mapping, &[])
        .read_all(Format::Csv, csv.as_bytes())
        .unwrap();
    let names: Vec<&str> = products.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Shirt", "Hat", "Sock, wool", "Belt"]);
    assert_eq!((report.rows, report.rejected), (5, 1));
    assert_eq!(report.errors[0].line, Some(3));
    let lines: Vec<Option<u64>> = report.warnings.iter().map(|w| w.line).collect();
    assert!(!lines.contains(&Some(3)), "{:?}", report.warnings);
}

#[test]
fn quoted_fields_over_several_lines_still_import() {
    let mapping = Mapping::from_toml(
        r#"
        [fields]
        id = "id"
        name = "name"
        text = ["description"]
        categorical = ["colour"]
        "#,
    )
    .unwrap();
    let csv = "id,name,description,colour\n\
               1,Shirt,\"Soft cotton.\n\
               Machine wash, cold, gentle.\",Blue\n\
               2,Hat,\"Wool.\n\nDry clean only.\",Red\n";
    let (products, report) = Importer::new(&mapping, &[])
        .read_all(Format::Csv, csv.as_bytes())
        .unwrap();
    assert_eq!(report.rejected, 0, "{:?}", report.errors);
    assert_eq!(products.len(), 2);
    assert_eq!(products[1].id, "2");
}

#[test]
fn every_missing_column_is_named_at_once() {
    let mapping = small_mapping();
    let err = Importer::new(&mapping, &[])
        .read_all(Format::Csv, "id,name\n1,x\n".as_bytes())
        .unwrap_err()
        .to_string();
    for part in [
        "4 columns",
        "'colour', 'emb', 'price', 'stock'",
        "header has: id, name",
    ] {
        assert!(err.contains(part), "{part}: {err}");
    }
}

#[test]
fn an_empty_file_is_said_to_be_empty() {
    let mapping = small_mapping();
    for empty in ["", "\n\n", "\r\n"] {
        let err = Importer::new(&mapping, &[])
            .read_all(Format::Csv, empty.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("the file is empty"), "{empty:?}: {err}");
        assert!(!err.contains("header has"), "{err}");
    }
}
