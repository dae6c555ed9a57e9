(* typed_params: read a domain's typed parameters (shared example). *)
open Pyvirt

(* The Go binding's type names, so that every language prints the same. *)
let show_value = function
  | Int i -> string_of_int i, "int32"
  | Uint i -> string_of_int i, "uint32"
  | Llong l -> Int64.to_string l, "int64"
  | Ullong l -> Printf.sprintf "%Lu" l, "uint64"
  | Double d -> Printf.sprintf "%g" d, "float64"
  | Boolean b -> (if b then "true" else "false"), "bool"
  | String s -> s, "string"

let show what f =
  match f () with
  | params ->
    Printf.printf "%s: %d parameter(s)\n" what (List.length params);
    List.iter (fun (field, v) ->
        let value, kind = show_value v in
        Printf.printf "  %s = %s (%s)\n" field value kind)
      (List.sort (fun (a, _) (b, _) -> compare a b) params)
  | exception Error e -> Printf.printf "%s: error code=%d message=%s\n" what e.code e.message

let () =
  try
    let conn = connect_open ~name:"test:///default" () in
    let dom = Connect.domain_lookup_by_name conn "test" in
    (match Domain.get_scheduler_type dom with
     | kind, n -> Printf.printf "scheduler: %s with %d parameter(s)\n" kind n
     | exception Error e -> Printf.printf "scheduler: error code=%d message=%s\n" e.code e.message);
    show "scheduler parameters" (fun () -> Domain.get_scheduler_parameters dom);
    show "memory parameters" (fun () -> Domain.get_memory_parameters ~flags:0 dom)
  with Error e ->
    Printf.printf "error: %s\n" (error_to_string e);
    exit 1
